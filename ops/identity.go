package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// Identity, IdentityN, StopGradient and NoOp. Outputs are zero-copy views
// of the inputs. Semantics: tensorflow/core/ops/array_ops.cc,
// tensorflow/core/kernels/identity_op.cc, identity_n_op.cc.

func init() {
	Default().Register(Spec{
		Name:  "Identity",
		Doc:   "its input, unchanged",
		Infer: inferIdentity,
		Build: buildIdentity,
		Batch: BatchPassThrough,
	})
	Default().Register(Spec{
		Name:  "StopGradient",
		Doc:   "its input, unchanged (gradients are not computed in inference)",
		Infer: inferIdentity,
		Build: buildIdentity,
		Batch: BatchPassThrough,
	})
	Default().Register(Spec{
		Name:  "IdentityN",
		Doc:   "each of its inputs, unchanged",
		Infer: inferIdentityN,
		Build: buildIdentityN,
		Batch: BatchPassThrough,
	})
	Default().Register(Spec{
		Name:  "NoOp",
		Doc:   "nothing; used for control dependencies",
		Infer: func(n *Node) ([]Value, error) { return []Value{}, nil },
		Build: func(n *Node) (Kernel, error) {
			return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				return []*tensor.Tensor{}, nil
			}), nil
		},
	})
}

// inferIdentity passes the input's dtype, shape and constant value through.
func inferIdentity(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	v := n.Inputs[0]
	if v.DType == tensor.Invalid {
		dt, err := AttrType(n, "T")
		if err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		v.DType = dt
	}
	return []Value{v}, nil
}

// arrIdentityKernel returns a kernel whose output is a view of input 0.
func arrIdentityKernel(op string) Kernel {
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 1 {
			return nil, fmt.Errorf("%w: op %s: expected 1 input, got %d", ErrShape, op, len(in))
		}
		v, err := arrCtxView(ctx, op, in[0], in[0].Shape())
		if err != nil {
			return nil, err
		}
		return ctx.Out(v), nil
	})
}

func buildIdentity(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return arrIdentityKernel(n.Op), nil
}

// arrIdentityNCount returns the number of values of an IdentityN node: its
// inputs, or the length of its T attr when the inputs are not known.
func arrIdentityNCount(n *Node) (int, []tensor.DType, error) {
	ts, ok, err := n.Attrs.Types("T")
	if err != nil {
		return 0, nil, fmt.Errorf("%w: op IdentityN: %v", ErrAttr, err)
	}
	if ok && len(n.Inputs) > 0 && len(ts) != len(n.Inputs) {
		return 0, nil, fmt.Errorf("%w: op IdentityN: attr T lists %d types but the node has %d inputs", ErrAttr, len(ts), len(n.Inputs))
	}
	if len(n.Inputs) > 0 {
		return len(n.Inputs), ts, nil
	}
	return len(ts), ts, nil
}

func inferIdentityN(n *Node) ([]Value, error) {
	k, ts, err := arrIdentityNCount(n)
	if err != nil {
		return nil, err
	}
	out := make([]Value, k)
	for i := range out {
		if i < len(n.Inputs) {
			out[i] = n.Inputs[i]
		} else {
			out[i].Shape = tensor.UnknownShape()
		}
		if out[i].DType == tensor.Invalid && i < len(ts) {
			out[i].DType = ts[i].Base()
		}
	}
	return out, nil
}

func buildIdentityN(n *Node) (Kernel, error) {
	k, _, err := arrIdentityNCount(n)
	if err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) != k {
			return nil, fmt.Errorf("%w: op IdentityN: expected %d inputs, got %d", ErrShape, k, len(in))
		}
		out := make([]*tensor.Tensor, len(in))
		for i, t := range in {
			v, err := arrView("IdentityN", t, t.Shape())
			if err != nil {
				for _, o := range out[:i] {
					o.Release()
				}
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}), nil
}
