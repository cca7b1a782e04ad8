package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// fzTinyMLPText is a small dense layer as a text GraphDef: y = tanh(x·W
// + b) for x float32 [-1, 3], W [3, 2], with fixed weights.
const fzTinyMLPText = `
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { dim { size: -1 } dim { size: 3 } } } } }
node { name: "W" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 3 } dim { size: 2 } }
    float_val: 0.5 float_val: -1 float_val: 0.25 float_val: 2 float_val: -0.75 float_val: 0.125 } } } }
node { name: "b" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } } float_val: 0.1 float_val: -0.2 } } } }
node { name: "mm" op: "MatMul" input: "x" input: "W" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "add" op: "Add" input: "mm" input: "b" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "y" op: "Tanh" input: "add" attr { key: "T" value { type: DT_FLOAT } } }
`

// fzTinyMLP loads fzTinyMLPText.
func fzTinyMLP(t testing.TB) *tfd.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mlp.pbtxt")
	if err := os.WriteFile(path, []byte(fzTinyMLPText), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := tfd.Load(path, tfd.WithName("mlp"), tfd.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fzServer returns the handler of a server with models "half" (the
// half_plus_two signatures, versions 123 and 124, label stable → 123),
// "multi" (testmodels.ServingMulti) and "mlp" (fzTinyMLP), with small
// limits and a short request timeout, and the mlp model.
func fzServer(t testing.TB) (http.Handler, *tfd.Model) {
	t.Helper()
	half := srvHalfPlusTwo(t)
	multi, err := tfd.FromGraph(testmodels.ServingMulti(), tfd.WithName("multi"), tfd.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	mlp := fzTinyMLP(t)
	s, err := New(Options{
		Models: []ModelConfig{
			{Name: "half", BasePath: srvVersionDirs(t, 123, 124), Policy: VersionPolicy{Kind: PolicyAll}, Labels: map[string]int64{"stable": 123}},
			{Name: "multi", BasePath: srvVersionDirs(t, 1)},
			{Name: "mlp", BasePath: srvVersionDirs(t, 1)},
		},
		Loader: func(path, name string) (Servable, error) {
			switch name {
			case "half":
				return half, nil
			case "multi":
				return NewModelServable(multi), nil
			}
			return NewModelServable(mlp), nil
		},
		Workers:        1,
		MaxBodyBytes:   64 << 10,
		MaxElements:    1 << 12,
		RequestTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s.Handler(), mlp
}

// fzServe sends one request to h in process and returns the recorded
// response; it fails the test if the handler has not answered within 20
// seconds (the server's own request timeout is 5).
func fzServe(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, req)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s %s: no answer after 20 s", req.Method, req.URL)
	}
	return rec
}

// fzMethods are the methods FuzzREST chooses from.
var fzMethods = []string{"POST", "GET", "PUT", "OPTIONS", "DELETE", "HEAD"}

// FuzzREST sends arbitrary requests (method, path, body) to the REST API
// of a server of three small models, in process. Properties: no panic and
// no hang; every /v1/ response is JSON, either 200 or an error status
// (4xx or 5xx) whose body is exactly {"error": "<message>"}.
func FuzzREST(f *testing.F) {
	seeds := []struct {
		method int
		path   string
		body   string
	}{
		{0, "/v1/models/half:predict", `{"instances": [1.0, 2.0, 5.0]}`},
		{0, "/v1/models/half/versions/123:predict", `{"signature_name": "serving_default", "inputs": {"x": [[3.0], [4.0]]}}`},
		{0, "/v1/models/half/labels/stable:regress", `{"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}, {"x": [2.0]}]}`},
		{0, "/v1/models/half:classify", `{"signature_name": "classify_x_to_y", "context": {"x": 4.0}, "examples": [{"x2": 1.0}]}`},
		{0, "/v1/models/half:regress", `{"signature_name": "regress_x_to_y", "examples": [{"x": 6.0, "s": {"b64": "aGk="}, "i": [1, 2], "b": true}]}`},
		{1, "/v1/models/half/metadata", ``},
		{1, "/v1/models/half/versions/124", ``},
		{1, "/v1/models/multi/labels/x/metadata", ``},
		{0, "/v1/models/multi:predict", `{"instances": [{"a": [1, 2], "b": 10, "text": "hi"}, {"a": [3, 4], "b": 20, "text": {"b64": "AP8="}}]}`},
		{0, "/v1/models/multi:predict", `{"inputs": {"a": [[1, 2]], "b": [0.5], "text": ["x"]}, "output_filter": ["total"]}`},
		{0, "/v1/models/mlp:predict", `{"instances": [[1, 2, 3], [NaN, -Infinity, 1e39]]}`},
		{0, "/v1/models/mlp:predict", `{"inputs": [[0.5, -0.5, 0]]}`},
		{0, "/v1/models/mlp:predict", `{"instances": [[[1, 2, 3]]]}`},
		{0, "/V1/MODELS/mlp/versions/1:predict", `{"instances": [[1, 2, 3]]}`},
		{3, "/v1/models/half:predict", ``},
		{2, "/v1/models/half", `{}`},
	}
	for _, s := range seeds {
		f.Add(uint8(s.method), s.path, []byte(s.body))
	}
	h, _ := fzServer(f)
	f.Fuzz(func(t *testing.T, method uint8, path string, body []byte) {
		m := fzMethods[int(method)%len(fzMethods)]
		req, err := http.NewRequest(m, "http://tfd.test"+path, bytes.NewReader(body))
		if err != nil || !v1PathRE.MatchString(req.URL.Path) {
			return // not a request a client can send, or not the REST API
		}
		if m == "OPTIONS" && method&0x80 != 0 {
			req.Header.Set("Origin", "http://example.com")
		}
		rec := fzServe(t, h, req)
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %q: Content-Type %q", m, path, ct)
		}
		code := rec.Code
		if code == http.StatusOK {
			if m == "POST" {
				if _, err := parseJSON(rec.Body.Bytes()); err != nil {
					t.Fatalf("%s %q: 200 with a body that does not parse (%v): %q", m, path, err, rec.Body.Bytes())
				}
			}
			return
		}
		if code < 400 || code > 599 {
			t.Fatalf("%s %q: status %d", m, path, code)
		}
		var e map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("%s %q: status %d with a body that is not JSON (%v): %q", m, path, code, err, rec.Body.Bytes())
		}
		msg, ok := e["error"].(string)
		if len(e) != 1 || !ok || msg == "" {
			t.Fatalf("%s %q: status %d with body %q, want {\"error\": message}", m, path, code, rec.Body.Bytes())
		}
	})
}

// fzFloatJSON writes v as TF Serving's JSON parser reads it.
func fzFloatJSON(v float32) string {
	switch {
	case math.IsNaN(float64(v)):
		return "NaN"
	case math.IsInf(float64(v), 1):
		return "Infinity"
	case math.IsInf(float64(v), -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(float64(v), 'g', -1, 32)
}

// FuzzRESTPredictRoundTrip makes a valid predict request for the tiny MLP
// from the fuzzer's bytes (rows of three float32s, any bits, in the row or
// the columnar format) and checks that the predictions equal a direct
// Model.Run of the same values, bit for bit (NaNs as NaNs).
func FuzzRESTPredictRoundTrip(f *testing.F) {
	le := func(v ...float32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	f.Add(false, le(1, 2, 3))
	f.Add(true, le(1, 2, 3, -4, 5e-39, 1e30))
	f.Add(false, le(float32(math.NaN()), float32(math.Inf(1)), -0.0, 3.4028235e38, 1.401298e-45, 0.1))
	h, model := fzServer(f)
	f.Fuzz(func(t *testing.T, columnar bool, data []byte) {
		rows := min(len(data)/12, 64)
		if rows == 0 {
			return
		}
		vals := make([]float32, rows*3)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		var b strings.Builder
		if columnar {
			b.WriteString(`{"inputs": {"x": [`)
		} else {
			b.WriteString(`{"instances": [`)
		}
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("[")
			for c := range 3 {
				if c > 0 {
					b.WriteString(", ")
				}
				b.WriteString(fzFloatJSON(vals[3*r+c]))
			}
			b.WriteString("]")
		}
		if columnar {
			b.WriteString("]}}")
		} else {
			b.WriteString("]}")
		}
		req, err := http.NewRequest("POST", "http://tfd.test/v1/models/mlp:predict", strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		rec := fzServe(t, h, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d for %s: %s", rec.Code, b.String(), rec.Body.Bytes())
		}
		doc, err := parseJSON(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("response does not parse: %v: %s", err, rec.Body.Bytes())
		}
		key := "predictions"
		if columnar {
			key = "outputs"
		}
		pv, ok := doc.member(key)
		if !ok {
			t.Fatalf("response has no %q: %s", key, rec.Body.Bytes())
		}
		got, err := jsonToTensor(pv, tensor.Float32, 1<<20)
		if err != nil {
			t.Fatalf("predictions: %v: %s", err, rec.Body.Bytes())
		}
		want, err := model.Run(context.Background(), map[string]*tfd.Tensor{"x": tensor.FromSlice(tensor.Shape{rows, 3}, vals)}, "y")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Shape().Equal(want[0].Shape()) {
			t.Fatalf("predictions of shape %v, Run gives %v", got.Shape(), want[0].Shape())
		}
		g, w := tensor.As[float32](got), tensor.As[float32](want[0])
		for i := range w {
			same := math.Float32bits(g[i]) == math.Float32bits(w[i]) || (g[i] != g[i] && w[i] != w[i])
			if !same {
				t.Fatalf("prediction %d is %v (%#x), Run gives %v (%#x); request %s; response %s",
					i, g[i], math.Float32bits(g[i]), w[i], math.Float32bits(w[i]), b.String(), rec.Body.Bytes())
			}
		}
	})
}

// TestClientTextIsNotAMetricLabel sends requests naming models, versions
// and signatures that do not exist, in invalid UTF-8 too: each gets a JSON
// error (the Prometheus client used to panic on the label), and no label
// of the metrics holds the text a client sent.
func TestClientTextIsNotAMetricLabel(t *testing.T) {
	h, _ := fzServer(t)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/models/half:classify", `{"signature_name": "c` + "\x8f" + `zzq", "examples": [{"x": 1.0}]}`},
		{"POST", "/v1/models/half:predict", `{"signature_name": "nope_` + "\xff" + `", "instances": [1.0]}`},
		{"POST", "/v1/models/%8f%ff:predict", `{"instances": [1.0]}`},
		{"GET", "/v1/models/%8f%ff", ``},
		{"GET", "/v1/models/half/versions/987654321", ``},
		{"GET", "/v1/models/%8f/metadata", ``},
	} {
		req, err := http.NewRequest(c.method, "http://tfd.test"+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		rec := fzServe(t, h, req)
		var e map[string]any
		if rec.Code < 400 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e["error"] == nil {
			t.Errorf("%s %s: %d %q, want a JSON error", c.method, c.path, rec.Code, rec.Body.Bytes())
		}
	}
	req, _ := http.NewRequest("GET", "http://tfd.test"+MetricsPath, nil)
	rec := fzServe(t, h, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics: %d", rec.Code)
	}
	for _, bad := range []string{"zzq", "nope_", "987654321", `model="\x8f`, `model="�`} {
		if strings.Contains(rec.Body.String(), bad) {
			t.Errorf("metrics hold %q from a client", bad)
		}
	}
}
