package graph

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/tfdgo/tfd/internal/tfpb"
	"github.com/tfdgo/tfd/tensor"
)

// decNodeDef builds a NodeDef.
func decNodeDef(name, op string, inputs []string, attrs map[string]*tfpb.AttrValue) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs, Attr: attrs}
}

func decShapeProto(dims ...int64) *tfpb.TensorShapeProto {
	sp := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		sp.Dim = append(sp.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return sp
}

// decConst builds a Const node holding tp.
func decConst(name string, tp *tfpb.TensorProto) *tfpb.NodeDef {
	return decNodeDef(name, "Const", nil, map[string]*tfpb.AttrValue{
		"dtype": {Value: &tfpb.AttrValue_Type{Type: tp.GetDtype()}},
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: tp}},
	})
}

func decMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decDecodeOne decodes a graph made of nodes and returns it.
func decDecode(t *testing.T, lim Limits, nodes ...*tfpb.NodeDef) (*Graph, error) {
	t.Helper()
	return Decode(decMarshal(t, &tfpb.GraphDef{Node: nodes}), FormatBinary, lim)
}

// decConstValue decodes a single Const and returns its value attr.
func decConstValue(t *testing.T, tp *tfpb.TensorProto) (any, error) {
	t.Helper()
	g, err := decDecode(t, Limits{}, decConst("c", tp))
	if err != nil {
		return nil, err
	}
	return g.Nodes[0].Attrs["value"], nil
}

func TestDecodeAttrCases(t *testing.T) {
	f32 := &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(2), FloatVal: []float32{1.5, -2}}
	i32 := &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT32, TensorShape: decShapeProto(), IntVal: []int32{7}}
	fn := &tfpb.NameAttrList{Name: "f", Attr: map[string]*tfpb.AttrValue{"T": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_INT64}}}}
	list := func(l *tfpb.AttrValue_ListValue) *tfpb.AttrValue {
		return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: l}}
	}
	tests := []struct {
		name string
		av   *tfpb.AttrValue
		want any
	}{
		{name: "s", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte("SAME\xff")}}, want: "SAME\xff"},
		{name: "i", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_I{I: -1 << 40}}, want: int64(-1 << 40)},
		{name: "f", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_F{F: 0.25}}, want: float32(0.25)},
		{name: "b", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_B{B: true}}, want: true},
		{name: "type", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_HALF}}, want: tensor.Half},
		// Reference dtypes are kept as written; consumers call Base.
		{name: "type ref", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT_REF}}, want: tensor.DType(101)},
		{name: "shape", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Shape{Shape: decShapeProto(-1, 784)}}, want: tensor.PartialShape{Dims: []int{-1, 784}}},
		{name: "shape scalar", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Shape{Shape: decShapeProto()}}, want: tensor.PartialShape{Dims: []int{}}},
		{name: "shape unknown rank", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Shape{Shape: &tfpb.TensorShapeProto{UnknownRank: true}}}, want: tensor.UnknownShape()},
		{name: "tensor", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Tensor{Tensor: f32}}, want: tensor.FromSlice(tensor.Shape{2}, []float32{1.5, -2})},
		{name: "placeholder", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Placeholder{Placeholder: "T"}}, want: tensor.Placeholder("T")},
		{name: "func", av: &tfpb.AttrValue{Value: &tfpb.AttrValue_Func{Func: fn}}, want: tensor.Func{Name: "f", Attrs: tensor.Attrs{"T": tensor.Int64}}},
		{name: "list empty", av: list(&tfpb.AttrValue_ListValue{}), want: tensor.EmptyList{}},
		{name: "list s", av: list(&tfpb.AttrValue_ListValue{S: [][]byte{[]byte("loc:@a"), nil}}), want: []string{"loc:@a", ""}},
		{name: "list i", av: list(&tfpb.AttrValue_ListValue{I: []int64{1, 2, 2, 1}}), want: []int64{1, 2, 2, 1}},
		{name: "list f", av: list(&tfpb.AttrValue_ListValue{F: []float32{0.5, -1}}), want: []float32{0.5, -1}},
		{name: "list b", av: list(&tfpb.AttrValue_ListValue{B: []bool{true, false}}), want: []bool{true, false}},
		{name: "list type", av: list(&tfpb.AttrValue_ListValue{Type: []tfpb.DataType{tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_INT32_REF}}), want: []tensor.DType{tensor.Float32, 103}},
		{name: "list shape", av: list(&tfpb.AttrValue_ListValue{Shape: []*tfpb.TensorShapeProto{decShapeProto(3), {UnknownRank: true}}}), want: []tensor.PartialShape{{Dims: []int{3}}, tensor.UnknownShape()}},
		{name: "list tensor", av: list(&tfpb.AttrValue_ListValue{Tensor: []*tfpb.TensorProto{f32, i32}}), want: []*tensor.Tensor{tensor.FromSlice(tensor.Shape{2}, []float32{1.5, -2}), tensor.Scalar[int32](7)}},
		{name: "list func", av: list(&tfpb.AttrValue_ListValue{Func: []*tfpb.NameAttrList{fn, {Name: "g"}}}), want: []tensor.Func{{Name: "f", Attrs: tensor.Attrs{"T": tensor.Int64}}, {Name: "g"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := decDecode(t, Limits{}, decNodeDef("n", "Op", nil, map[string]*tfpb.AttrValue{"a": tt.av}))
			if err != nil {
				t.Fatal(err)
			}
			if d := decValueDiff(g.Nodes[0].Attrs["a"], tt.want); d != "" {
				t.Errorf("got %#v: %s", g.Nodes[0].Attrs["a"], d)
			}
			decCheckRoundTrip(t, tt.name, g)
		})
	}
}

func TestDecodeAttrNoValueSkipped(t *testing.T) {
	g, err := decDecode(t, Limits{}, decNodeDef("n", "Op", nil, map[string]*tfpb.AttrValue{"empty": {}, "i": {Value: &tfpb.AttrValue_I{I: 1}}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Nodes[0].Attrs["empty"]; ok || len(g.Nodes[0].Attrs) != 1 {
		t.Errorf("attrs %v, want only i", g.Nodes[0].Attrs)
	}
}

// A list holding two kinds of values (seen in a fuzz-generated SavedModel
// of TensorFlow's test data, on "_output_shapes") loads as UnsupportedAttr
// and is written back unchanged.
func TestDecodeMixedList(t *testing.T) {
	av := &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{F: []float32{1}, Shape: []*tfpb.TensorShapeProto{decShapeProto(2)}}}}
	g, err := decDecode(t, Limits{}, decNodeDef("n", "Add", nil, map[string]*tfpb.AttrValue{"_output_shapes": av}))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := g.Nodes[0].Attrs["_output_shapes"].(UnsupportedAttr)
	if !ok || !strings.Contains(u.Reason, "list(float) list(shape)") {
		t.Fatalf("got %#v, want UnsupportedAttr", g.Nodes[0].Attrs["_output_shapes"])
	}
	if _, _, err := g.Nodes[0].Attrs.Shapes("_output_shapes"); err == nil {
		t.Errorf("Shapes getter accepted an UnsupportedAttr")
	}
	gd, err := ToGraphDef(g)
	if err != nil {
		t.Fatal(err)
	}
	if got := gd.Node[0].Attr["_output_shapes"]; !proto.Equal(got, av) {
		t.Errorf("re-encoded %v, want %v", got, av)
	}
}

func TestDecodeInputs(t *testing.T) {
	tests := []struct {
		name    string
		inputs  []string
		want    []Input
		control []string
		wantErr string
	}{
		{name: "data and control", inputs: []string{"a", "b:2", "^c", "^d"}, want: []Input{{"a", 0}, {"b", 2}}, control: []string{"c", "d"}},
		{name: "explicit zero", inputs: []string{"a:0"}, want: []Input{{"a", 0}}},
		{name: "scoped names", inputs: []string{"dense/MatMul:1"}, want: []Input{{"dense/MatMul", 1}}},
		{name: "data after control", inputs: []string{"^c", "a"}, wantErr: `node "n" (Op): input 1 "a" follows a control input`},
		{name: "bad index", inputs: []string{"a:x"}, wantErr: `node "n" (Op): input 0: graph: bad tensor name "a:x"`},
		{name: "colon in node name", inputs: []string{"a::0"}, wantErr: `node "n" (Op): input 0: graph: bad tensor name "a::0"`},
		{name: "empty", inputs: []string{""}, wantErr: `node "n" (Op): input 0: graph: empty tensor name`},
		{name: "bare caret", inputs: []string{"^"}, wantErr: `empty control input`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := decDecode(t, Limits{}, decNodeDef("n", "Op", tt.inputs, nil))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := g.Nodes[0]
			if !decSliceEq(n.Inputs, tt.want) || !decSliceEq(n.ControlInputs, tt.control) {
				t.Errorf("got %v ^%v, want %v ^%v", n.Inputs, n.ControlInputs, tt.want, tt.control)
			}
		})
	}
}

func TestDecodeNodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		nodes   []*tfpb.NodeDef
		wantErr string
	}{
		{name: "no name", nodes: []*tfpb.NodeDef{decNodeDef("", "Op", nil, nil)}, wantErr: `graph: node 0 (op "Op") has no name`},
		{name: "no op", nodes: []*tfpb.NodeDef{decNodeDef("n", "", nil, nil)}, wantErr: `graph: node "n": node has no op`},
		{name: "duplicate", nodes: []*tfpb.NodeDef{decNodeDef("n", "A", nil, nil), decNodeDef("n", "B", nil, nil)}, wantErr: `graph: node "n": name used twice`},
		{name: "shape attr dim -2", nodes: []*tfpb.NodeDef{decNodeDef("p", "Placeholder", nil, map[string]*tfpb.AttrValue{
			"shape": {Value: &tfpb.AttrValue_Shape{Shape: decShapeProto(-2)}}})},
			wantErr: `graph: node "p" (Placeholder): attr "shape": shape dimension 0 is -2 (expected -1 for unknown or a size >= 0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decDecode(t, Limits{}, tt.nodes...)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("got error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeTensorValues(t *testing.T) {
	tests := []struct {
		name string
		tp   *tfpb.TensorProto
		want *tensor.Tensor
	}{
		// Fill rule of FromProtoField (tensorflow/core/framework/tensor.cc):
		// fewer values repeat the last, none give zeros, extra are ignored.
		{name: "fill repeats last",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(2, 3), FloatVal: []float32{1, 2}},
			want: tensor.FromSlice(tensor.Shape{2, 3}, []float32{1, 2, 2, 2, 2, 2})},
		{name: "fill single value",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT64, TensorShape: decShapeProto(3), Int64Val: []int64{-5}},
			want: tensor.FromSlice(tensor.Shape{3}, []int64{-5, -5, -5})},
		{name: "no values give zeros",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_DOUBLE, TensorShape: decShapeProto(2)},
			want: tensor.FromSlice(tensor.Shape{2}, []float64{0, 0})},
		{name: "no values give empty strings",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(2)},
			want: tensor.FromSlice(tensor.Shape{2}, []string{"", ""})},
		{name: "extra values ignored",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT32, TensorShape: decShapeProto(2), IntVal: []int32{1, 2, 3}},
			want: tensor.FromSlice(tensor.Shape{2}, []int32{1, 2})},
		{name: "wrong field ignored",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(2), IntVal: []int32{1, 2}},
			want: tensor.FromSlice(tensor.Shape{2}, []float32{0, 0})},
		{name: "scalar",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_BOOL, BoolVal: []bool{true}},
			want: tensor.Scalar(true)},
		{name: "empty tensor ignores values",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(0, 3), FloatVal: []float32{1}, TensorContent: []byte{1}},
			want: tensor.FromSlice(tensor.Shape{0, 3}, []float32{})},
		// int_val holds the narrow integer types; TensorFlow casts, so
		// out-of-range values wrap.
		{name: "int8 from int_val",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT8, TensorShape: decShapeProto(3), IntVal: []int32{-128, 127, 200}},
			want: tensor.FromSlice(tensor.Shape{3}, []int8{-128, 127, -56})},
		{name: "uint8 from int_val",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT8, TensorShape: decShapeProto(2), IntVal: []int32{255, 0}},
			want: tensor.FromSlice(tensor.Shape{2}, []uint8{255, 0})},
		{name: "int16 from int_val",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT16, TensorShape: decShapeProto(2), IntVal: []int32{-32768, 32767}},
			want: tensor.FromSlice(tensor.Shape{2}, []int16{-32768, 32767})},
		{name: "uint16 from int_val",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT16, TensorShape: decShapeProto(2), IntVal: []int32{65535, 1}},
			want: tensor.FromSlice(tensor.Shape{2}, []uint16{65535, 1})},
		{name: "strings",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(3), StringVal: [][]byte{[]byte("a"), []byte("\x00b")}},
			want: tensor.FromSlice(tensor.Shape{3}, []string{"a", "\x00b", "\x00b"})},
		// tensor_content is little-endian: 0x3f800000 is 1.0f, 0xc0000000 is -2.0f.
		{name: "float32 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(2), TensorContent: []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}},
			want: tensor.FromSlice(tensor.Shape{2}, []float32{1, -2})},
		{name: "float64 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_DOUBLE, TensorShape: decShapeProto(1), TensorContent: []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
			want: tensor.FromSlice(tensor.Shape{1}, []float64{1})},
		{name: "int32 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT32, TensorShape: decShapeProto(2), TensorContent: []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
			want: tensor.FromSlice(tensor.Shape{2}, []int32{1, -1})},
		{name: "int64 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT64, TensorShape: decShapeProto(1), TensorContent: []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
			want: tensor.FromSlice(tensor.Shape{1}, []int64{-2})},
		{name: "int16 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT16, TensorShape: decShapeProto(1), TensorContent: []byte{0x00, 0x80}},
			want: tensor.FromSlice(tensor.Shape{1}, []int16{-32768})},
		{name: "uint16 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT16, TensorShape: decShapeProto(1), TensorContent: []byte{0x34, 0x12}},
			want: tensor.FromSlice(tensor.Shape{1}, []uint16{0x1234})},
		{name: "int8 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT8, TensorShape: decShapeProto(2), TensorContent: []byte{0xff, 0x7f}},
			want: tensor.FromSlice(tensor.Shape{2}, []int8{-1, 127})},
		{name: "uint8 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT8, TensorShape: decShapeProto(2), TensorContent: []byte{0xff, 0x7f}},
			want: tensor.FromSlice(tensor.Shape{2}, []uint8{255, 127})},
		{name: "bool content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_BOOL, TensorShape: decShapeProto(3), TensorContent: []byte{1, 0, 2}},
			want: tensor.FromSlice(tensor.Shape{3}, []bool{true, false, true})},
		// 0x3c00 is binary16 1.0; 0x3f80 is bfloat16 1.0.
		{name: "half content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_HALF, TensorShape: decShapeProto(2), TensorContent: []byte{0x00, 0x3c, 0x00, 0xc0}},
			want: decRetag(t, tensor.FromSlice(tensor.Shape{2}, []float32{1, -2}), tensor.Half)},
		{name: "bfloat16 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_BFLOAT16, TensorShape: decShapeProto(1), TensorContent: []byte{0x80, 0x3f}},
			want: decRetag(t, tensor.FromSlice(tensor.Shape{1}, []float32{1}), tensor.BFloat16)},
		{name: "half fill",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_HALF, TensorShape: decShapeProto(3), HalfVal: []int32{0x3c00, 0x4000}},
			want: decRetag(t, tensor.FromSlice(tensor.Shape{3}, []float32{1, 2, 2}), tensor.Half)},
		// uint32_val/uint64_val and (real, imag) pairs in scomplex_val/
		// dcomplex_val, with the same fill rule; a trailing odd value of a
		// complex field is not an element (TF counts size/2).
		{name: "uint32 fill",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT32, TensorShape: decShapeProto(3), Uint32Val: []uint32{1, math.MaxUint32}},
			want: tensor.FromSlice(tensor.Shape{3}, []uint32{1, math.MaxUint32, math.MaxUint32})},
		{name: "uint64 values",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT64, TensorShape: decShapeProto(1), Uint64Val: []uint64{1 << 63}},
			want: tensor.FromSlice(tensor.Shape{1}, []uint64{1 << 63})},
		{name: "complex64 pairs",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_COMPLEX64, TensorShape: decShapeProto(3), ScomplexVal: []float32{1, 2, 3, 4, 5}},
			want: tensor.FromSlice(tensor.Shape{3}, []complex64{1 + 2i, 3 + 4i, 3 + 4i})},
		{name: "complex128 pairs",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_COMPLEX128, TensorShape: decShapeProto(1), DcomplexVal: []float64{1, -2}},
			want: tensor.FromSlice(tensor.Shape{1}, []complex128{1 - 2i})},
		// 0x3f800000 is 1.0f, 0xc0000000 -2.0f; 0x3ff0000000000000 is 1.0.
		{name: "uint32 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT32, TensorShape: decShapeProto(1), TensorContent: []byte{0xff, 0xff, 0xff, 0xff}},
			want: tensor.FromSlice(tensor.Shape{1}, []uint32{math.MaxUint32})},
		{name: "uint64 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_UINT64, TensorShape: decShapeProto(1), TensorContent: []byte{2, 0, 0, 0, 0, 0, 0, 0x80}},
			want: tensor.FromSlice(tensor.Shape{1}, []uint64{1<<63 + 2})},
		{name: "complex64 content",
			tp:   &tfpb.TensorProto{Dtype: tfpb.DataType_DT_COMPLEX64, TensorShape: decShapeProto(1), TensorContent: []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}},
			want: tensor.FromSlice(tensor.Shape{1}, []complex64{1 - 2i})},
		{name: "complex128 content",
			tp: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_COMPLEX128, TensorShape: decShapeProto(1),
				TensorContent: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
			want: tensor.FromSlice(tensor.Shape{1}, []complex128{1i})},
		// String tensor_content: varint32 lengths 1, 0, 200 (0xc8 0x01), then the bytes.
		{name: "string content",
			tp: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(3),
				TensorContent: append([]byte{1, 0, 0xc8, 0x01, 'a'}, strings.Repeat("z", 200)...)},
			want: tensor.FromSlice(tensor.Shape{3}, []string{"a", "", strings.Repeat("z", 200)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := decConstValue(t, tt.tp)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := v.(*tensor.Tensor)
			if !ok || !tensor.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", v, tt.want)
			}
			g, err := decDecode(t, Limits{}, decConst("c", tt.tp))
			if err != nil {
				t.Fatal(err)
			}
			decCheckRoundTrip(t, tt.name, g)
		})
	}
}

func decRetag(t *testing.T, x *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	t.Helper()
	r, err := x.Retag(dt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDecodeTensorErrors(t *testing.T) {
	tests := []struct {
		name    string
		tp      *tfpb.TensorProto
		wantErr string
		limit   bool // wraps tensor.ErrLimit
	}{
		{name: "content too short",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(2), TensorContent: []byte{0, 0, 0x80, 0x3f}},
			wantErr: "tensor_content holds 4 bytes, expected 2 elements of float32 (4 bytes each)"},
		{name: "content too long",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT8, TensorShape: decShapeProto(1), TensorContent: []byte{1, 2}},
			wantErr: "tensor_content holds 2 bytes, expected 1 elements of int8"},
		{name: "string lengths exceed bytes",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(2), TensorContent: []byte{1, 5, 'a'}},
			wantErr: "lengths add up to 6 bytes, 1 bytes follow them"},
		{name: "string lengths short of bytes",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(1), TensorContent: []byte{1, 'a', 'b'}},
			wantErr: "lengths add up to 1 bytes, 2 bytes follow them"},
		{name: "string truncated varint",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(1), TensorContent: []byte{0x80}},
			wantErr: "bad length 0 of 1"},
		{name: "string varint over 32 bits",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(1), TensorContent: []byte{0x80, 0x80, 0x80, 0x80, 0x10}},
			wantErr: "bad length 0 of 1"},
		{name: "negative dim",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(2, -1)},
			wantErr: `node "c" (Const): attr "value": tensor shape dimension 1 is -1 (expected a size >= 0)`},
		{name: "unknown rank",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: &tfpb.TensorShapeProto{UnknownRank: true}},
			wantErr: "tensor shape has unknown rank"},
		{name: "too many elements",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(1e5, 1e5, 1e5), FloatVal: []float32{1}},
			wantErr: `node "c" (Const): attr "value": tensor declares 1000000000000000 elements, more than the limit 2147483648: limit exceeded`, limit: true},
		{name: "element count overflows",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(1<<40, 1<<40)},
			wantErr: "too many elements", limit: true},
		{name: "rank over limit",
			tp:      &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(make([]int64, 33)...)},
			wantErr: "tensor has rank 33, more than the limit 32", limit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decConstValue(t, tt.tp)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if errors.Is(err, tensor.ErrLimit) != tt.limit {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v", !tt.limit, tt.limit)
			}
		})
	}
}

// TestDecodeLimitErrorNamesFile checks the full message of a limit error
// from ReadFile.
func TestDecodeLimitErrorNamesFile(t *testing.T) {
	gd := &tfpb.GraphDef{Node: []*tfpb.NodeDef{decConst("dense/kernel", &tfpb.TensorProto{
		Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(1e15), FloatVal: []float32{1}})}}
	path := filepath.Join(t.TempDir(), "x.pb")
	if err := os.WriteFile(path, decMarshal(t, gd), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path, Limits{})
	want := `graph: ` + path + `: node "dense/kernel" (Const): attr "value": tensor declares 1000000000000000 elements, more than the limit 2147483648: limit exceeded`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if !errors.Is(err, tensor.ErrLimit) {
		t.Errorf("error does not wrap ErrLimit")
	}
}

func TestDecodeLimits(t *testing.T) {
	f32 := func(n int64) *tfpb.TensorProto {
		return &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(n), FloatVal: []float32{1}}
	}
	tests := []struct {
		name    string
		lim     Limits
		nodes   []*tfpb.NodeDef
		wantErr string
	}{
		{name: "nodes", lim: Limits{MaxNodes: 2},
			nodes:   []*tfpb.NodeDef{decNodeDef("a", "A", nil, nil), decNodeDef("b", "A", nil, nil), decNodeDef("c", "A", nil, nil)},
			wantErr: "graph has 3 nodes (functions included), more than the limit 2"},
		{name: "elements", lim: Limits{MaxElements: 10},
			nodes:   []*tfpb.NodeDef{decConst("c", f32(11))},
			wantErr: "tensor declares 11 elements, more than the limit 10"},
		// Two constants of 40 bytes each overrun a 64-byte budget at the second.
		{name: "const bytes across nodes", lim: Limits{MaxConstBytes: 64},
			nodes:   []*tfpb.NodeDef{decConst("a", f32(10)), decConst("b", f32(10))},
			wantErr: `node "b" (Const): attr "value": constants need more than 64 bytes in total (40 already used, 40 more requested)`},
		// A string tensor is charged 16 bytes per element plus its bytes.
		{name: "string bytes", lim: Limits{MaxConstBytes: 40},
			nodes: []*tfpb.NodeDef{decConst("s", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: decShapeProto(2),
				StringVal: [][]byte{[]byte("0123456789")}})},
			wantErr: "constants need more than 40 bytes in total (32 already used, 10 more requested)"},
		{name: "shape attr rank", lim: Limits{MaxRank: 2},
			nodes: []*tfpb.NodeDef{decNodeDef("p", "Placeholder", nil, map[string]*tfpb.AttrValue{
				"shape": {Value: &tfpb.AttrValue_Shape{Shape: decShapeProto(1, 2, 3)}}})},
			wantErr: `attr "shape": shape has rank 3, more than the limit 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decDecode(t, tt.lim, tt.nodes...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, tensor.ErrLimit) {
				t.Errorf("got error %v, want %q wrapping ErrLimit", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeFileLimit(t *testing.T) {
	b := decMarshal(t, &tfpb.GraphDef{Node: []*tfpb.NodeDef{decNodeDef("a", "A", nil, nil)}})
	path := filepath.Join(t.TempDir(), "g.pb")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	lim := Limits{MaxFileBytes: int64(len(b) - 1)}
	if _, err := ReadFile(path, lim); !errors.Is(err, tensor.ErrLimit) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadFile: got %v, want a limit error naming the file", err)
	}
	if _, err := Decode(b, "", lim); !errors.Is(err, tensor.ErrLimit) {
		t.Errorf("Decode: got %v, want a limit error", err)
	}
	if _, err := ReadFile(path, Limits{MaxFileBytes: int64(len(b))}); err != nil {
		t.Errorf("file of exactly the limit: %v", err)
	}
	if _, err := Decode(b, "", Limits{MaxNodes: -1}); err == nil {
		t.Errorf("negative limit accepted")
	}
}

func TestDecodeUnsupportedDTypes(t *testing.T) {
	tests := []struct {
		name string
		tp   *tfpb.TensorProto
	}{
		{name: "qint8", tp: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_QINT8, TensorShape: decShapeProto(1), IntVal: []int32{3}}},
		{name: "resource", tp: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_RESOURCE, TensorShape: decShapeProto(),
			ResourceHandleVal: []*tfpb.ResourceHandleProto{{Device: "/cpu:0", Name: "v", HashCode: 42}}}},
		{name: "variant", tp: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_VARIANT, TensorShape: decShapeProto(),
			VariantVal: []*tfpb.VariantTensorDataProto{{TypeName: "tensorflow::TensorList", Metadata: []byte{1}}}}},
		{name: "float8", tp: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT8_E4M3FN, TensorShape: decShapeProto(2), Float8Val: []byte{0x38, 0x40}}},
		{name: "int4", tp: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT4, TensorShape: decShapeProto(2), IntVal: []int32{-8, 7}}},
		{name: "invalid", tp: &tfpb.TensorProto{TensorShape: decShapeProto(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := decDecode(t, Limits{}, decConst("c", tt.tp))
			if err != nil {
				t.Fatal(err)
			}
			u, ok := g.Nodes[0].Attrs["value"].(UnsupportedTensor)
			if !ok {
				t.Fatalf("got %T, want UnsupportedTensor", g.Nodes[0].Attrs["value"])
			}
			if u.DType != tensor.DType(tt.tp.GetDtype()) || len(u.Shape) != len(tt.tp.GetTensorShape().GetDim()) {
				t.Errorf("got %v", u)
			}
			if _, _, err := g.Nodes[0].Attrs.Tensor("value"); err == nil {
				t.Errorf("Tensor getter accepted an UnsupportedTensor")
			}
			gd, err := ToGraphDef(g)
			if err != nil {
				t.Fatal(err)
			}
			if got := gd.Node[0].Attr["value"].GetTensor(); !proto.Equal(got, tt.tp) {
				t.Errorf("re-encoded %v, want %v", got, tt.tp)
			}
			decCheckRoundTrip(t, tt.name, g)
		})
	}
	// A list(tensor) mixing supported and unsupported tensors keeps both.
	l := &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Tensor: []*tfpb.TensorProto{
		tests[0].tp, {Dtype: tfpb.DataType_DT_INT32, IntVal: []int32{4}}}}}}
	g, err := decDecode(t, Limits{}, decNodeDef("n", "Op", nil, map[string]*tfpb.AttrValue{"l": l}))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := g.Nodes[0].Attrs["l"].([]any)
	if !ok || len(got) != 2 {
		t.Fatalf("got %#v, want []any of 2", g.Nodes[0].Attrs["l"])
	}
	if _, ok := got[0].(UnsupportedTensor); !ok {
		t.Errorf("element 0 is %T", got[0])
	}
	if x, ok := got[1].(*tensor.Tensor); !ok || !tensor.Equal(x, tensor.Scalar[int32](4)) {
		t.Errorf("element 1 is %v", got[1])
	}
	decCheckRoundTrip(t, "mixed tensor list", g)
}

// IEEE 754 binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa
// bits; subnormals are mantissa × 2^-24. bfloat16 is the top 16 bits of a
// binary32. Expected values below are computed by hand from those layouts.
func TestHalfWidening(t *testing.T) {
	half := []struct {
		bits uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},        // (1 + 341/1024) / 4
		{0x7bff, 65504},                 // largest finite: (2 - 2^-10) × 2^15
		{0x0400, 6.103515625e-05},       // smallest normal: 2^-14
		{0x0001, 5.9604645e-08},         // smallest subnormal: 2^-24
		{0x03ff, 6.097555160522461e-05}, // largest subnormal: 1023 × 2^-24
		{0x8001, -5.9604645e-08},
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range half {
		got := halfToFloat32(tt.bits)
		if math.Float32bits(got) != math.Float32bits(tt.want) {
			t.Errorf("half %#04x: got %v (%#08x), want %v", tt.bits, got, math.Float32bits(got), tt.want)
		}
	}
	// Negative zero and NaN payloads map bit-exactly: sign to bit 31,
	// payload to the top mantissa bits.
	for _, tt := range []struct {
		h uint16
		f uint32
	}{{0x8000, 0x80000000}, {0x7e00, 0x7fc00000}, {0x7c01, 0x7f802000}, {0xfe00, 0xffc00000}} {
		if got := math.Float32bits(halfToFloat32(tt.h)); got != tt.f {
			t.Errorf("half %#04x: got bits %#08x, want %#08x", tt.h, got, tt.f)
		}
	}
	bf := []struct {
		bits uint16
		f    uint32
	}{
		{0x3f80, 0x3f800000}, // 1
		{0xc040, 0xc0400000}, // -3
		{0x4049, 0x40490000}, // 3.140625
		{0x0001, 0x00010000}, // subnormal 2^-133
		{0x7f80, 0x7f800000}, // +inf
		{0xff80, 0xff800000}, // -inf
		{0x7fc1, 0x7fc10000}, // NaN with payload
	}
	for _, tt := range bf {
		if got := math.Float32bits(bfloat16ToFloat32(tt.bits)); got != tt.f {
			t.Errorf("bfloat16 %#04x: got bits %#08x, want %#08x", tt.bits, got, tt.f)
		}
	}
	// Narrowing inverts widening for every 16-bit pattern.
	for h := range 1 << 16 {
		if got := float32ToHalf(halfToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("half %#04x: round trip gave %#04x", h, got)
		}
		if got := float32ToBFloat16(bfloat16ToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("bfloat16 %#04x: round trip gave %#04x", h, got)
		}
	}
}

// Rounding to nearest, ties to even, in the narrowing used by Encode.
func TestHalfNarrowingRounds(t *testing.T) {
	tests := []struct {
		f    float32
		half uint16
	}{
		{1 + 1.0/2048, 0x3c00},               // halfway between 1 and 1+2^-10: even is 1
		{1 + 3.0/2048, 0x3c02},               // halfway between 1+2^-10 and 1+2^-9: even is 0x3c02
		{1 + 1.0/2048 + 1.0/(1<<20), 0x3c01}, // just above halfway
		{65519, 0x7bff},                      // below halfway to 65536
		{65520, 0x7c00},                      // halfway between 65504 (odd mantissa) and 2^16: rounds to inf
		{1e10, 0x7c00},
		{-1e10, 0xfc00},
		{2.9802322e-08, 0x0000},                 // 2^-25, halfway between 0 and 2^-24: even is 0
		{4.4703484e-08, 0x0001},                 // 3 × 2^-26: above halfway
		{8.940697e-08, 0x0002},                  // 3 × 2^-25 = 1.5 × 2^-24: tie, even is 2
		{6.1035156e-05 - 2.9802322e-08, 0x0400}, // 2^-14 - 2^-25: halfway below smallest normal, rounds up to it
		{1e-30, 0x0000},
		{-1e-30, 0x8000},
	}
	for _, tt := range tests {
		if got := float32ToHalf(tt.f); got != tt.half {
			t.Errorf("float32ToHalf(%v) = %#04x, want %#04x", tt.f, got, tt.half)
		}
	}
	bf := []struct {
		f  uint32
		bf uint16
	}{
		{0x3f808000, 0x3f80}, // tie, even is 0x3f80
		{0x3f818000, 0x3f82}, // tie, even is 0x3f82
		{0x3f808001, 0x3f81}, // above halfway
		{0x7f7fffff, 0x7f80}, // largest float32 rounds to inf
		{0x7f800001, 0x7fc0}, // NaN with a payload only in the low bits stays NaN
	}
	for _, tt := range bf {
		if got := float32ToBFloat16(math.Float32frombits(tt.f)); got != tt.bf {
			t.Errorf("float32ToBFloat16(%#08x) = %#04x, want %#04x", tt.f, got, tt.bf)
		}
	}
	if got := float32ToHalf(math.Float32frombits(0x7f800001)); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("NaN with low payload narrowed to %#04x, want a NaN", got)
	}
}

func TestDecodeUnknownFieldsIgnored(t *testing.T) {
	unknown := func(b []byte) []byte {
		b = protowire.AppendTag(b, 999, protowire.VarintType)
		b = protowire.AppendVarint(b, 12345)
		b = protowire.AppendTag(b, 1000, protowire.BytesType)
		return protowire.AppendBytes(b, []byte("future"))
	}
	node := decConst("c", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: decShapeProto(2), FloatVal: []float32{3}})
	// A NodeDef with unknown fields, embedded by hand as GraphDef field 1.
	nb := unknown(decMarshal(t, node))
	var gb []byte
	gb = protowire.AppendTag(gb, 1, protowire.BytesType)
	gb = protowire.AppendBytes(gb, nb)
	gb = unknown(gb)
	g, err := Decode(gb, FormatBinary, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := g.Nodes[0].Attrs.Tensor("value")
	if err != nil || !tensor.Equal(v, tensor.FromSlice(tensor.Shape{2}, []float32{3, 3})) {
		t.Errorf("got %v, %v", v, err)
	}
	// Text format: unknown fields are skipped too.
	txt := "node { name: \"a\" op: \"NoOp\" future_field: 3 future_msg { x: 1 } }\nversions { producer: 27 }\nfuture_top: \"x\"\n"
	g, err = Decode([]byte(txt), FormatText, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 1 || g.Versions.Producer != 27 {
		t.Errorf("got %d nodes, versions %+v", len(g.Nodes), g.Versions)
	}
}

func TestDecodeFormats(t *testing.T) {
	gd := &tfpb.GraphDef{
		Node:     []*tfpb.NodeDef{decNodeDef("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}})},
		Versions: &tfpb.VersionDef{Producer: 1087, MinConsumer: 12},
	}
	bin := decMarshal(t, gd)
	txt := marshalText(gd)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name       string
		path       string
		wantFormat string
		wantErr    string
	}{
		{name: "binary", path: write("g.pb", bin), wantFormat: FormatBinary},
		{name: "text by extension", path: write("g.pbtxt", txt), wantFormat: FormatText},
		{name: "txt extension", path: write("g.txt", txt), wantFormat: FormatText},
		{name: "text in .pb falls back", path: write("t.pb", txt), wantFormat: FormatText},
		{name: "binary in .pbtxt fails", path: write("b.pbtxt", bin), wantErr: "parsing text GraphDef"},
		{name: "garbage", path: write("bad.pb", []byte{0xff, 0xff, 0xff}), wantErr: "parsing binary GraphDef: malformed protobuf"},
		{name: "bad text", path: write("bad2.pb", []byte("node { name: ")), wantErr: "neither binary"},
		{name: "missing", path: filepath.Join(dir, "none.pb"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ReadFile(tt.path, Limits{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), `graph: `+tt.path+`: `) {
					t.Fatalf("got error %v, want %q naming the file", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.Format != tt.wantFormat || g.Source != tt.path || g.Versions != (Versions{1087, 12}) || len(g.Nodes) != 1 {
				t.Errorf("got format %q source %q versions %+v, %d nodes", g.Format, g.Source, g.Versions, len(g.Nodes))
			}
		})
	}
	if _, err := Decode(bin, "json", Limits{}); err == nil || !strings.Contains(err.Error(), `unknown GraphDef format "json"`) {
		t.Errorf("got %v", err)
	}
	if _, err := DecodeGraphDef(nil, Limits{}); err != nil {
		t.Errorf("nil GraphDef: %v", err)
	}
}

func TestDecodeFunctionLibrary(t *testing.T) {
	fd := &tfpb.FunctionDef{
		Signature: &tfpb.OpDef{
			Name: "__inference_f_12",
			InputArg: []*tfpb.OpDef_ArgDef{
				{Name: "x", Type: tfpb.DataType_DT_FLOAT},
				{Name: "v", Type: tfpb.DataType_DT_RESOURCE},
				{Name: "xs", TypeAttr: "T", NumberAttr: "N"},
				{Name: "ys", TypeListAttr: "Tlist"},
				{Name: "r", Type: tfpb.DataType_DT_FLOAT, IsRef: true},
			},
			OutputArg: []*tfpb.OpDef_ArgDef{{Name: "identity", Type: tfpb.DataType_DT_FLOAT}},
		},
		Attr: map[string]*tfpb.AttrValue{"_input_shapes": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Shape: []*tfpb.TensorShapeProto{decShapeProto(-1, 2)}}}}},
		NodeDef: []*tfpb.NodeDef{
			decNodeDef("ReadVariableOp", "ReadVariableOp", []string{"v"}, map[string]*tfpb.AttrValue{"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}}),
			decNodeDef("MatMul", "MatMul", []string{"x", "ReadVariableOp:value:0", "^NoOp"}, map[string]*tfpb.AttrValue{"T": {Value: &tfpb.AttrValue_Placeholder{Placeholder: "T"}}}),
			decNodeDef("NoOp", "NoOp", nil, nil),
			decNodeDef("Identity", "Identity", []string{"MatMul:product:0"}, nil),
		},
		Ret:        map[string]string{"identity": "Identity:output:0"},
		ControlRet: map[string]string{"NoOp": "NoOp"},
	}
	gd := &tfpb.GraphDef{
		Node:    []*tfpb.NodeDef{decNodeDef("call", "StatefulPartitionedCall", []string{"x", "v"}, map[string]*tfpb.AttrValue{"f": {Value: &tfpb.AttrValue_Func{Func: &tfpb.NameAttrList{Name: "__inference_f_12"}}}})},
		Library: &tfpb.FunctionDefLibrary{Function: []*tfpb.FunctionDef{fd}},
	}
	g, err := Decode(decMarshal(t, gd), FormatBinary, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Library) != 1 {
		t.Fatalf("%d functions", len(g.Library))
	}
	f := g.Library[0]
	wantIn := []Arg{
		{Name: "x", Type: tensor.Float32},
		{Name: "v", Type: tensor.Resource},
		{Name: "xs", TypeAttr: "T", NumberAttr: "N"},
		{Name: "ys", TypeListAttr: "Tlist"},
		{Name: "r", Type: tensor.Float32, IsRef: true},
	}
	if f.Name != "__inference_f_12" || !decSliceEq(f.InputArgs, wantIn) || !decSliceEq(f.OutputArgs, []Arg{{Name: "identity", Type: tensor.Float32}}) {
		t.Errorf("signature %q %+v -> %+v", f.Name, f.InputArgs, f.OutputArgs)
	}
	if s, _, err := f.Attrs.Shapes("_input_shapes"); err != nil || len(s) != 1 || s[0].String() != "[? 2]" {
		t.Errorf("function attrs %v", f.Attrs)
	}
	if len(f.Nodes) != 4 || f.Nodes[1].Name != "MatMul" || f.Nodes[1].Attrs["T"] != tensor.Placeholder("T") {
		t.Fatalf("nodes %v", f.Nodes)
	}
	if mm := f.Nodes[1]; len(mm.Inputs) != 0 || !decSliceEq(mm.ControlInputs, []string{"NoOp"}) {
		t.Errorf("MatMul inputs %v ^%v, want none parsed and ^NoOp", mm.Inputs, mm.ControlInputs)
	}
	if !decSliceEq(f.RawInputs["MatMul"], []string{"x", "ReadVariableOp:value:0", "^NoOp"}) || len(f.RawInputs) != 3 {
		t.Errorf("raw inputs %v", f.RawInputs)
	}
	if f.Ret["identity"] != "Identity:output:0" || f.ControlRet["NoOp"] != "NoOp" {
		t.Errorf("ret %v control %v", f.Ret, f.ControlRet)
	}
	decCheckRoundTrip(t, "function", g)

	// Errors inside functions name the function and node.
	bad := proto.Clone(gd).(*tfpb.GraphDef)
	bad.Library.Function[0].NodeDef[1].Input = []string{"^NoOp", "x"}
	if _, err := Decode(decMarshal(t, bad), FormatBinary, Limits{}); err == nil ||
		!strings.Contains(err.Error(), `function "__inference_f_12": node "MatMul" (MatMul): input 1 "x" follows a control input`) {
		t.Errorf("got %v", err)
	}
	dup := proto.Clone(gd).(*tfpb.GraphDef)
	dup.Library.Function = append(dup.Library.Function, fd)
	if _, err := Decode(decMarshal(t, dup), FormatBinary, Limits{}); err == nil || !strings.Contains(err.Error(), `function "__inference_f_12" is defined twice`) {
		t.Errorf("got %v", err)
	}
	// Function bodies count against MaxNodes.
	if _, err := Decode(decMarshal(t, gd), FormatBinary, Limits{MaxNodes: 4}); !errors.Is(err, tensor.ErrLimit) {
		t.Errorf("got %v, want a node limit error", err)
	}
	noName := proto.Clone(gd).(*tfpb.GraphDef)
	noName.Library.Function[0].Signature.Name = ""
	if _, err := Decode(decMarshal(t, noName), FormatBinary, Limits{}); err == nil || !strings.Contains(err.Error(), "has no name") {
		t.Errorf("got %v", err)
	}
}
