package serve

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/example"
	"github.com/tfdgo/tfd/tensor"
)

// The REST API, request by request as TF Serving's HttpRestApiHandler
// processes it (model_servers/http_rest_api_handler.cc,
// http_rest_api_util.cc, util/json_tensor.cc, servables/tensorflow/
// {classifier,regressor,predict_util}.cc), checks in the same order, with
// the same messages.

var (
	predictPathRE = regexp.MustCompile(`(?i)^/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)$`)
	statusPathRE  = regexp.MustCompile(`(?i)^/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?$`)
)

// reqInfo is what a request turned out to be, for logs and metrics.
type reqInfo struct {
	api       string
	model     string
	version   int64 // -1 when unknown
	signature string
	rows      int
}

// handleAPI processes one /v1/ request and returns the JSON body; a
// non-nil error is answered as {"error": message} with its code's status.
func (s *Server) handleAPI(ctx context.Context, method, path string, body []byte, info *reqInfo) ([]byte, error) {
	malformed := errorf(InvalidArgument, "Malformed request: %s %s", method, path)
	var m []string
	switch method {
	case "POST":
		m = predictPathRE.FindStringSubmatch(path)
	case "GET":
		m = statusPathRE.FindStringSubmatch(path)
	default:
		return nil, malformed
	}
	if m == nil {
		return nil, malformed
	}
	sp := spec{}
	if m[1] != "" {
		name, err := url.PathUnescape(m[1])
		if err != nil {
			return nil, errorf(InvalidArgument, "Failed to decode model name:%s", m[1])
		}
		sp.name = name
	}
	// The model, version and signature a request names become metric
	// labels only once they are found to exist: a label holds any text a
	// client sends otherwise (invalid UTF-8 makes the Prometheus client
	// panic), and every new value would be a new series.
	if m[2] != "" {
		v, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			return nil, errorf(InvalidArgument, "Failed to convert version: %s to numeric.", m[2])
		}
		sp.version = &v
	}
	if m[3] != "" {
		l, err := url.PathUnescape(m[3])
		if err != nil {
			return nil, errorf(InvalidArgument, "Failed to decode model version label:%s", m[3])
		}
		sp.label = l
	}
	if method == "POST" {
		info.api = m[4]
		switch m[4] {
		case "predict":
			return s.predict(ctx, sp, body, info)
		case "classify", "regress":
			return s.classifyRegress(ctx, sp, m[4], body, info)
		}
		return nil, malformed
	}
	if sp.name == "" {
		return nil, errorf(InvalidArgument, "Missing model name in request.")
	}
	if m[4] == "metadata" {
		info.api = "metadata"
		return s.metadata(sp, info)
	}
	if m[4] != "" {
		return nil, malformed
	}
	info.api = "status"
	out, err := s.status(sp)
	if err == nil {
		info.model = sp.name
		if sp.version != nil {
			info.version = *sp.version
		}
	}
	return out, err
}

// docObject parses a request body that must be a JSON object and reads
// its optional signature_name.
func docObject(body []byte) (*jsonValue, string, error) {
	doc, err := parseJSON(body)
	if err != nil {
		return nil, "", err
	}
	if doc.kind != jObject {
		return nil, "", errorf(InvalidArgument, "JSON Value: %s Is not object", doc.debugString())
	}
	sig := ""
	if v, ok := doc.member("signature_name"); ok {
		if v.kind != jString {
			return nil, "", errorf(InvalidArgument, "JSON Value: %s not formatted correctly. 'signature_name' key must be a string value.", doc.debugString())
		}
		sig = v.lit
	}
	return doc, sig, nil
}

func (s *Server) predict(ctx context.Context, sp spec, body []byte, info *reqInfo) ([]byte, error) {
	doc, sigName, err := docObject(body)
	if err != nil {
		return nil, err
	}
	v, err := s.mgr.resolve(sp)
	if err != nil {
		return nil, err
	}
	info.model, info.version = sp.name, v.num
	key := sigName
	if key == "" {
		key = tfd.DefaultSignature
	}
	sig, ok := v.sigs[key]
	if !ok {
		return nil, errorf(InvalidArgument, "Serving signature name: \"%s\" not found in signature def", key)
	}
	info.signature = key
	if len(sig.Inputs) == 0 {
		name := sigName
		if name == "" {
			name = "DEFAULT"
		}
		return nil, errorf(InvalidArgument, "Failed to get input map for signature: %s", name)
	}
	instances, hasInstances := doc.member("instances")
	inputs, hasInputs := doc.member("inputs")
	var feeds map[string]*tfd.Tensor
	row := false
	switch {
	case hasInstances && hasInputs:
		return nil, errorf(InvalidArgument, "JSON Value: %s Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ", doc.debugString())
	case hasInstances:
		if instances.kind != jArray {
			return nil, errorf(InvalidArgument, "JSON Value: %s Expecting 'instances' to be an list/array", doc.debugString())
		}
		if len(instances.arr) == 0 {
			return nil, errorf(InvalidArgument, "JSON Value: %s No values in 'instances' array", doc.debugString())
		}
		row = true
		feeds, err = s.rowFeeds(instances, sig)
	case hasInputs:
		feeds, err = s.columnarFeeds(inputs, sig)
	default:
		return nil, errorf(InvalidArgument, "Missing 'inputs' or 'instances' key")
	}
	if err != nil {
		return nil, err
	}
	if rows, ok := batchRows(feeds); ok {
		info.rows = rows
	}
	outs, err := s.runVersion(ctx, v, key, feeds, sig.OutputKeys())
	if err != nil {
		return nil, err
	}
	if row {
		return rowJSON(outs)
	}
	return columnarJSON(outs)
}

// inputDType is the dtype a signature input takes from JSON.
func inputDType(ti tfd.TensorInfo) tensor.DType { return ti.DType.Base() }

// rowFeeds converts "instances" (FillTensorMapFromInstancesList).
func (s *Server) rowFeeds(list *jsonValue, sig *tfd.Signature) (map[string]*tfd.Tensor, error) {
	names := sig.InputKeys()
	isObj := func(v *jsonValue) bool { return v.kind == jObject && !v.isB64() }
	if list.arr[0].kind != jObject && len(names) > 1 {
		return nil, errorf(InvalidArgument, "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map")
	}
	objects := isObj(&list.arr[0])
	type acc struct {
		tb    *tensorBuilder
		shape tensor.Shape
		size  int
		seen  bool
	}
	accs := map[string]*acc{}
	add := func(name string, item *jsonValue) error {
		ti, ok := sig.Inputs[name]
		if !ok {
			return errorf(InvalidArgument, "JSON object: does not have named input: %s", name)
		}
		a := accs[name]
		if a == nil {
			tb, err := newTensorBuilder(inputDType(ti))
			if err != nil {
				return err
			}
			a = &acc{tb: tb}
			accs[name] = a
		}
		shape := denseShape(item)
		if err := checkElems(shape, s.opts.MaxElements); err != nil {
			return err
		}
		before := a.tb.len()
		if err := a.tb.fill(item, 0, shape); err != nil {
			return err
		}
		size := a.tb.len() - before
		if !a.seen {
			a.seen, a.size, a.shape = true, size, shape
		} else if size != a.size {
			return errorf(InvalidArgument, "Expecting tensor size: %d but got: %d", a.size, size)
		} else if !shape.Equal(a.shape) {
			return errorf(InvalidArgument, "Expecting shape %s but got: %s", shapeString(a.shape), shapeString(shape))
		}
		if s.opts.MaxElements > 0 && a.tb.len() > s.opts.MaxElements {
			return errorf(InvalidArgument, "input %s has more elements than the limit %d", name, s.opts.MaxElements)
		}
		return nil
	}
	for i := range list.arr {
		elem := &list.arr[i]
		if objects {
			if !isObj(elem) {
				return nil, errorf(InvalidArgument, "Expecting object but got list at item %d of input list", i)
			}
			keys := make([]string, 0, len(elem.obj))
			for j := range elem.obj {
				name := elem.obj[j].key
				keys = append(keys, name)
				if err := add(name, &elem.obj[j].val); err != nil {
					return nil, errorf(InvalidArgument, "Failed to process element: %d key: %s of 'instances' list. Error: %s", i, name, statusString(err))
				}
			}
			sort.Strings(keys)
			keys = dedup(keys)
			if !sameKeys(keys, names, sig) {
				return nil, errorf(InvalidArgument, "Failed to process element: %d of 'instances' list. JSON object: %s keys must be equal to: %s",
					i, elem.debugString(), strings.Join(names, ","))
			}
			continue
		}
		if isObj(elem) {
			return nil, errorf(InvalidArgument, "Expecting value/list but got object at item %d of input list", i)
		}
		if err := add(names[0], elem); err != nil {
			return nil, errorf(InvalidArgument, "Failed to process element: %d of 'instances' list. Error: %s", i, statusString(err))
		}
	}
	feeds := make(map[string]*tfd.Tensor, len(accs))
	n := len(list.arr)
	for name, a := range accs {
		t, err := a.tb.tensor(append(tensor.Shape{n}, a.shape...))
		if err != nil {
			return nil, err
		}
		feeds[name] = t
	}
	return feeds, nil
}

// sameKeys reports whether an instance's keys are the signature's inputs
// (inputs with defaults may be left out).
func sameKeys(keys, names []string, sig *tfd.Signature) bool {
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	for _, n := range names {
		if !have[n] && !sig.Inputs[n].Optional {
			return false
		}
		delete(have, n)
	}
	return len(have) == 0
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// statusString prints an error as absl::Status::ToString does, which TF
// Serving embeds in some messages: "INVALID_ARGUMENT: message".
func statusString(err error) string {
	return CodeOf(err).String() + ": " + err.Error()
}

// columnarFeeds converts "inputs" (FillTensorMapFromInputsMap).
func (s *Server) columnarFeeds(val *jsonValue, sig *tfd.Signature) (map[string]*tfd.Tensor, error) {
	names := sig.InputKeys()
	feeds := map[string]*tfd.Tensor{}
	if val.kind != jObject || val.isB64() {
		if len(names) > 1 {
			return nil, errorf(InvalidArgument, "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map")
		}
		t, err := jsonToTensor(val, inputDType(sig.Inputs[names[0]]), s.opts.MaxElements)
		if err != nil {
			return nil, err
		}
		feeds[names[0]] = t
		return feeds, nil
	}
	for _, name := range names {
		item, ok := val.member(name)
		if !ok {
			if sig.Inputs[name].Optional {
				continue
			}
			return nil, errorf(InvalidArgument, "Missing named input: %s in 'inputs' object.", name)
		}
		t, err := jsonToTensor(item, inputDType(sig.Inputs[name]), s.opts.MaxElements)
		if err != nil {
			return nil, err
		}
		feeds[name] = t
	}
	return feeds, nil
}

// runVersion runs a signature of an available version, batched when
// batching is on.
func (s *Server) runVersion(ctx context.Context, v *version, sig string, feeds map[string]*tfd.Tensor, outputs []string) (map[string]*tfd.Tensor, error) {
	v.mu.Lock()
	b := v.batcher
	v.mu.Unlock()
	if b != nil {
		return b.run(ctx, sig, feeds, outputs)
	}
	return s.rt.run(ctx, v, sig, feeds, outputs)
}

// Classification and regression.

// jsonExample converts a JSON object to a tf.Example
// (MakeExampleFromJsonObject).
func jsonExample(val *jsonValue) (*example.Example, error) {
	if val.kind != jObject {
		return nil, errorf(InvalidArgument, "Example must be JSON object but got JSON %s", val.typeName())
	}
	ex := &example.Example{Features: map[string]*example.Feature{}}
	for i := range val.obj {
		name := val.obj[i].key
		content := &val.obj[i].val
		f := &example.Feature{}
		if content.kind == jArray {
			for j := range content.arr {
				if err := addFeatureValue(&content.arr[j], name, f); err != nil {
					return nil, err
				}
			}
		} else if err := addFeatureValue(content, name, f); err != nil {
			return nil, err
		}
		ex.Features[name] = f
	}
	return ex, nil
}

// addFeatureValue is AddValueToFeature: numbers with a fraction or
// exponent are floats, integers are int64s, booleans are 1/0 int64s,
// strings and {"b64": ...} are bytes.
func addFeatureValue(v *jsonValue, name string, f *example.Feature) error {
	want := func(k example.Kind) error {
		if f.Kind != example.KindNone && f.Kind != k {
			return errorf(InvalidArgument, "Unexpected element type in feature: %s expecting type: %s", name, f.Kind)
		}
		f.Kind = k
		return nil
	}
	switch v.kind {
	case jNull, jArray:
		return errorf(InvalidArgument, "Feature: %s has element with unexpected JSON type: %s", name, v.typeName())
	case jTrue, jFalse:
		if err := want(example.KindInt64); err != nil {
			return err
		}
		b := int64(0)
		if v.kind == jTrue {
			b = 1
		}
		f.Int64s = append(f.Int64s, b)
	case jObject:
		if !v.isB64() {
			return errorf(InvalidArgument, "Feature: %s has element with unexpected JSON type: %s", name, v.typeName())
		}
		if err := want(example.KindBytes); err != nil {
			return err
		}
		s, err := decodeB64(v)
		if err != nil {
			return err
		}
		f.Bytes = append(f.Bytes, []byte(s))
	case jString:
		if err := want(example.KindBytes); err != nil {
			return err
		}
		f.Bytes = append(f.Bytes, []byte(v.lit))
	case jNumber:
		if v.isDouble() {
			if err := want(example.KindFloat); err != nil {
				return err
			}
			f.Floats = append(f.Floats, v.float32())
			return nil
		}
		if err := want(example.KindInt64); err != nil {
			return err
		}
		i, ok := v.int64()
		if !ok {
			return errorf(InvalidArgument, "Feature: %s has uint64_t element. Only int64_t is supported.", name)
		}
		f.Int64s = append(f.Int64s, i)
	}
	return nil
}

// serializedExamples builds the string tensor a classify or regress
// signature takes: one serialized Example per entry of "examples", each
// prefixed with the serialized "context" (which is how TF Serving merges
// ExampleListWithContext).
func serializedExamples(doc *jsonValue) (*tfd.Tensor, error) {
	var context []byte
	if c, ok := doc.member("context"); ok {
		ex, err := jsonExample(c)
		if err != nil {
			return nil, err
		}
		context = ex.Marshal()
	}
	list, ok := doc.member("examples")
	if !ok {
		return nil, errorf(InvalidArgument, "JSON Value: %s When method is classify, key 'examples' is expected and was not found", doc.debugString())
	}
	if list.kind != jArray {
		return nil, errorf(InvalidArgument, "JSON Value: %s Expecting 'examples' value to be an list/array", doc.debugString())
	}
	if len(list.arr) == 0 {
		return nil, errorf(InvalidArgument, "JSON Value: %s 'examples' value is an empty array", doc.debugString())
	}
	ser := make([]string, len(list.arr))
	for i := range list.arr {
		ex, err := jsonExample(&list.arr[i])
		if err != nil {
			return nil, err
		}
		ser[i] = string(context) + string(ex.Marshal())
	}
	return tensor.FromSlice(tensor.Shape{len(ser)}, ser), nil
}

// sigDebugString stands in for SignatureDef.DebugString in messages.
func sigDebugString(sig *tfd.Signature) string {
	var b strings.Builder
	for _, part := range []struct {
		what string
		m    map[string]tfd.TensorInfo
	}{{"inputs", sig.Inputs}, {"outputs", sig.Outputs}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ti := part.m[k]
			fmt.Fprintf(&b, "%s { key: %q value { name: %q dtype: %s } } ", part.what, k, tensorName(ti.Name), tfEnumName(ti.DType))
		}
	}
	fmt.Fprintf(&b, "method_name: %q", sig.Method)
	return b.String()
}

func (s *Server) classifyRegress(ctx context.Context, sp spec, api string, body []byte, info *reqInfo) ([]byte, error) {
	doc, sigName, err := docObject(body)
	if err != nil {
		return nil, err
	}
	examples, err := serializedExamples(doc)
	if err != nil {
		return nil, err
	}
	v, err := s.mgr.resolve(sp)
	if err != nil {
		return nil, err
	}
	info.model, info.version = sp.name, v.num
	key := sigName
	if key == "" {
		key = tfd.DefaultSignature
	}
	sig, ok := v.sigs[key]
	if !ok {
		return nil, errorf(InvalidArgument, "No signature was found with the name: %s", key)
	}
	info.signature = key
	n := examples.Shape()[0]
	info.rows = n
	if api == "classify" {
		return s.classify(ctx, v, key, sig, examples, n)
	}
	return s.regress(ctx, v, key, sig, examples, n)
}

func (s *Server) classify(ctx context.Context, v *version, key string, sig *tfd.Signature, examples *tfd.Tensor, n int) ([]byte, error) {
	if len(sig.Inputs) != 1 {
		return nil, errorf(InvalidArgument, "Expected one input Tensor.")
	}
	if len(sig.Outputs) != 1 && len(sig.Outputs) != 2 {
		return nil, errorf(InvalidArgument, "Expected one or two output Tensors, found %d", len(sig.Outputs))
	}
	if _, ok := sig.Inputs["inputs"]; !ok {
		return nil, errorf(InvalidArgument, "No classification inputs found in SignatureDef: %s", sigDebugString(sig))
	}
	var outputs []string
	for _, k := range []string{"classes", "scores"} {
		if _, ok := sig.Outputs[k]; ok {
			outputs = append(outputs, k)
		}
	}
	if len(outputs) == 0 {
		return nil, errorf(InvalidArgument, "Expected classification signature outputs to contain at least one of \"classes\" or \"scores\". Signature was: %s", sigDebugString(sig))
	}
	outs, err := s.runVersion(ctx, v, key, map[string]*tfd.Tensor{"inputs": examples}, outputs)
	if err != nil {
		return nil, err
	}
	classes, scores := outs["classes"], outs["scores"]
	for _, c := range []struct {
		t    *tfd.Tensor
		what string
		dt   tensor.DType
	}{{classes, "classes", tensor.String}, {scores, "scores", tensor.Float32}} {
		if c.t == nil {
			continue
		}
		if c.t.Rank() != 2 {
			return nil, errorf(InvalidArgument, "Expected Tensor shape: [batch_size num_classes] but got %s", tfShapeDebug(c.t.Shape()))
		}
		if c.t.DType() != c.dt {
			return nil, errorf(InvalidArgument, "Expected %s Tensor of %s. Got: %s", c.what, tfEnumName(c.dt), tfEnumName(c.t.DType()))
		}
		if c.t.Shape()[0] != n {
			return nil, errorf(InvalidArgument, "Expected %s output batch size of %d. Got: %d", c.what, n, c.t.Shape()[0])
		}
	}
	numClasses := 0
	switch {
	case classes != nil && scores != nil:
		if classes.Shape()[1] != scores.Shape()[1] {
			return nil, errorf(InvalidArgument, "Tensors class and score should match in dim_size(1). Got %d vs. %d", classes.Shape()[1], scores.Shape()[1])
		}
		numClasses = classes.Shape()[1]
	case classes != nil:
		numClasses = classes.Shape()[1]
	default:
		numClasses = scores.Shape()[1]
	}
	if n == 0 {
		return nil, errorf(InvalidArgument, "Cannot convert empty ClassificationResults to JSON")
	}
	w := &rjWriter{}
	w.startObject()
	w.key("results")
	w.startArray()
	for i := 0; i < n; i++ {
		w.singleLine = true
		w.startArray()
		for c := 0; c < numClasses; c++ {
			w.startArray()
			label := ""
			if classes != nil {
				label = tensor.As[string](classes)[i*numClasses+c]
			}
			w.str(label)
			score := float32(0)
			if scores != nil {
				score = tensor.As[float32](scores)[i*numClasses+c]
			}
			w.float32(score)
			w.endArray()
		}
		w.endArray()
		w.singleLine = false
	}
	w.endArray()
	w.endObject()
	return w.buf, nil
}

func (s *Server) regress(ctx context.Context, v *version, key string, sig *tfd.Signature, examples *tfd.Tensor, n int) ([]byte, error) {
	if len(sig.Inputs) != 1 {
		return nil, errorf(InvalidArgument, "Expected one input Tensor.")
	}
	if len(sig.Outputs) != 1 {
		return nil, errorf(InvalidArgument, "Expected one output Tensor.")
	}
	if _, ok := sig.Inputs["inputs"]; !ok {
		return nil, errorf(InvalidArgument, "No regression inputs found in SignatureDef: %s", sigDebugString(sig))
	}
	if _, ok := sig.Outputs["outputs"]; !ok {
		return nil, errorf(InvalidArgument, "No regression outputs found in SignatureDef: %s", sigDebugString(sig))
	}
	outs, err := s.runVersion(ctx, v, key, map[string]*tfd.Tensor{"inputs": examples}, []string{"outputs"})
	if err != nil {
		return nil, err
	}
	t := outs["outputs"]
	if !(t.Rank() == 1 || (t.Rank() == 2 && t.Shape()[1] == 1)) {
		return nil, errorf(InvalidArgument, "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got %s", tfShapeDebug(t.Shape()))
	}
	if t.Shape()[0] != n {
		return nil, errorf(InvalidArgument, "Input batch size did not match output batch size: %d vs. %d", n, t.Shape()[0])
	}
	if t.DType() != tensor.Float32 {
		return nil, errorf(InvalidArgument, "Expected output Tensor of DT_FLOAT.  Got: %s", tfEnumName(t.DType()))
	}
	w := &rjWriter{}
	w.startObject()
	w.key("results")
	w.singleLine = true
	w.startArray()
	for _, x := range tensor.As[float32](t) {
		w.float32(x)
	}
	w.endArray()
	w.endObject()
	return w.buf, nil
}

// tfShapeDebug prints a shape as TensorShape::DebugString: [2,3].
func tfShapeDebug(s tensor.Shape) string { return shapeString(s) }

// tensorName returns a graph tensor name with its output index, as
// SignatureDefs spell them ("x" → "x:0").
func tensorName(name string) string {
	if name == "" || strings.Contains(name, ":") {
		return name
	}
	return name + ":0"
}

// Status and metadata.

func (s *Server) status(sp spec) ([]byte, error) {
	st, err := s.mgr.status(sp)
	if err != nil {
		return nil, err
	}
	w := &pbWriter{}
	w.startObject("")
	w.startArray("model_version_status")
	for _, vs := range st {
		w.startObject("")
		w.str("version", strconv.FormatInt(vs.version, 10))
		w.str("state", vs.state.String())
		w.startObject("status")
		w.str("error_code", vs.code.String())
		w.str("error_message", vs.msg)
		w.endObject()
		w.endObject()
	}
	w.endArray()
	w.endObject()
	return w.buf, nil
}

func (s *Server) metadata(sp spec, info *reqInfo) ([]byte, error) {
	v, err := s.mgr.resolve(sp)
	if err != nil {
		return nil, err
	}
	info.model, info.version = sp.name, v.num
	// TF Serving prints the model spec and the signature map separately and
	// joins them (http_rest_api_util.cc ToJsonString).
	ms := &pbWriter{}
	ms.startObject("")
	ms.str("name", sp.name)
	ms.str("signature_name", "")
	ms.str("version", strconv.FormatInt(v.num, 10))
	ms.endObject()

	sd := &pbWriter{}
	sd.startObject("")
	sd.startObject("signature_def")
	keys := make([]string, 0, len(v.sigs))
	for k := range v.sigs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sig := v.sigs[k]
		sd.startObject(k)
		writeInfos(sd, "inputs", sig.Inputs)
		writeInfos(sd, "outputs", sig.Outputs)
		sd.str("method_name", sig.Method)
		sd.startObject("defaults")
		sd.endObject()
		sd.endObject()
	}
	sd.endObject()
	sd.endObject()

	var b []byte
	b = append(b, "{\n\"model_spec\":"...)
	b = append(b, ms.buf...)
	b = append(b, ",\n\"metadata\": {\"signature_def\": "...)
	b = append(b, sd.buf...)
	b = append(b, "}\n}\n"...)
	return b, nil
}

func writeInfos(w *pbWriter, what string, m map[string]tfd.TensorInfo) {
	w.startObject(what)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ti := m[k]
		w.startObject(k)
		w.str("dtype", tfEnumName(ti.DType))
		w.startObject("tensor_shape")
		w.startArray("dim")
		if !ti.Shape.UnknownRank {
			for _, d := range ti.Shape.Dims {
				w.startObject("")
				w.str("size", strconv.Itoa(d))
				w.str("name", "")
				w.endObject()
			}
		}
		w.endArray()
		w.bool("unknown_rank", ti.Shape.UnknownRank)
		w.endObject()
		w.str("name", tensorName(ti.Name))
		w.endObject()
	}
	w.endObject()
}
