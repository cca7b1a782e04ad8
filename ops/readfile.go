package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// ReadFile (tensorflow/core/kernels/whole_file_read_ops.cc) outputs the
// bytes of a file as a string scalar. tfd reads only files the model's
// state allows (FileAccess: a SavedModel's assets directory), up to the
// model's file-size limit, since a model file is untrusted input and a
// feed could name any path.

func init() {
	Default().Register(Spec{Name: "ReadFile", Doc: "the contents of a file of the model's assets, as a string scalar",
		Infer: readFileInfer, Build: readFileBuild, Stateful: true})
}

func readFileInfer(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{seqScalarValue(tensor.String)}, nil
}

func readFileBuild(n *Node) (Kernel, error) {
	if dt, err := InputDType(n, 0, ""); err == nil && dt != tensor.String {
		return nil, fmt.Errorf("%w: op ReadFile: filename is %s, expected string", ErrDType, dt)
	}
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if in[0].DType() != tensor.String || in[0].Len() != 1 {
			return nil, fmt.Errorf("%w: op ReadFile: filename is %s%v, expected a string scalar", ErrDType, in[0].DType(), in[0].Shape())
		}
		s, err := stateOf(ctx, "ReadFile")
		if err != nil {
			return nil, err
		}
		data, err := s.readFile("ReadFile", tensor.As[string](in[0])[0])
		if err != nil {
			return nil, err
		}
		out, err := tensor.Wrap(tensor.String, tensor.Shape{}, []string{string(data)})
		if err != nil {
			return nil, err
		}
		return []*tensor.Tensor{out}, nil
	}), nil
}
