package tfd

import (
	"context"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

func TestFrozenGraphDefaultSignature(t *testing.T) {
	m, err := Load("testdata/towers.pbtxt")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := m.Signature("")
	if err != nil {
		t.Fatal(err)
	}
	if sig.Key != DefaultSignature || strings.Join(sig.InputKeys(), ",") != "x" || strings.Join(sig.OutputKeys(), ",") != "output" {
		t.Fatalf("signature %+v", sig)
	}
	if out := sig.Outputs["output"]; out.DType != tensor.Float32 || out.Shape.String() != "[? 16]" {
		t.Errorf("output info %+v", out)
	}
	x := testmodels.Input(2, 3, 16)
	res, err := m.RunSignature(context.Background(), "", RunOptions{}, map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	_, w := testmodels.Towers(testmodels.SeedTowers)
	if e := relL2(tensor.As[float32](res["output"]), refTowers(tensor.As[float32](x), 3, w)); e > 1e-5 {
		t.Errorf("error %g", e)
	}
	for _, c := range []struct {
		key   string
		feeds map[string]*Tensor
		outs  []string
		want  string
	}{
		{"nope", nil, nil, `no signature "nope" (has: serving_default)`},
		{"", map[string]*Tensor{"y": x}, nil, `has no input "y" (inputs: x)`},
		{"", map[string]*Tensor{}, nil, `input "x" is missing`},
		{"", map[string]*Tensor{"x": x}, []string{"z"}, `has no output "z" (outputs: output)`},
	} {
		_, err := m.RunSignature(context.Background(), c.key, RunOptions{}, c.feeds, c.outs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}
