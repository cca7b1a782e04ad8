package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// Resource variables that live in the model's state (ModelState) and so
// keep their value across runs: VarHandleOp, ReadVariableOp,
// AssignVariableOp, AssignAddVariableOp, AssignSubVariableOp and
// VarIsInitializedOp, with the semantics of
// tensorflow/core/kernels/resource_variable_ops.cc.
//
// A SavedModel's variables that its signatures only read are frozen into
// constants when it is loaded, so these kernels see only the variables a
// signature or the init op writes (TF1 reference variables are rewritten
// to this form by the loader). VarHandleOp outputs a handle naming the
// variable by container and shared name (the node name when that is
// empty). A write replaces the variable's value with a copy of the
// written tensor; writes of one variable are serialized, so concurrent
// AssignAddVariableOps never lose an update, and a read returns a copy of
// the value before or after any write.

func init() {
	Default().Register(Spec{Name: "VarHandleOp", Doc: "the handle of a resource variable of the model's state (by container and shared name)",
		Infer: stateInferHandle, Build: stateBuildVarHandle, Stateful: true})
	Default().Register(Spec{Name: "ReadVariableOp", Doc: "the current value of a resource variable",
		Infer: stateInferRead, Build: stateBuildRead, Stateful: true})
	Default().Register(Spec{Name: "AssignVariableOp", Doc: "sets a resource variable to a value",
		Infer: stateInferNone, Build: func(n *Node) (Kernel, error) { return stateBuildAssign(n, stateSet) }, Stateful: true})
	Default().Register(Spec{Name: "AssignAddVariableOp", Doc: "adds a value to a resource variable",
		Infer: stateInferNone, Build: func(n *Node) (Kernel, error) { return stateBuildAssign(n, stateAdd) }, Stateful: true})
	Default().Register(Spec{Name: "AssignSubVariableOp", Doc: "subtracts a value from a resource variable",
		Infer: stateInferNone, Build: func(n *Node) (Kernel, error) { return stateBuildAssign(n, stateSub) }, Stateful: true})
	Default().Register(Spec{Name: "VarIsInitializedOp", Doc: "whether a resource variable holds a value",
		Infer: stateInferIsInit, Build: stateBuildIsInit, Stateful: true})
}

// stateUpdate says how a write combines the old value with the new one.
type stateUpdate int

const (
	stateSet stateUpdate = iota
	stateAdd
	stateSub
)

func stateInferHandle(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 0); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{seqScalarValue(tensor.Resource)}, nil
}

func stateInferNone(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{}, nil
}

func stateInferRead(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := AttrType(n, "dtype")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{{DType: dt.Base(), Shape: tensor.UnknownShape()}}, nil
}

func stateInferIsInit(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{seqScalarValue(tensor.Bool)}, nil
}

func stateBuildVarHandle(n *Node) (Kernel, error) {
	dt, err := AttrType(n, "dtype")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt = dt.Base()
	handle := VariableHandle(n.Name, n.Attrs)
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		s, err := stateOf(ctx, "VarHandleOp")
		if err != nil {
			return nil, err
		}
		if _, err := s.variable(handle, dt, true); err != nil {
			return nil, fmt.Errorf("op VarHandleOp: %w", err)
		}
		h, err := stateHandleTensor(handle)
		if err != nil {
			return nil, err
		}
		return []*tensor.Tensor{h}, nil
	}), nil
}

// stateVarOf returns the variable an op's handle input names, created with
// dtype dt when it does not exist yet and create is set (else nil).
func stateVarOf(ctx *Ctx, op string, h *tensor.Tensor, dt tensor.DType, create bool) (*stateVar, error) {
	s, err := stateOf(ctx, op)
	if err != nil {
		return nil, err
	}
	handle, err := stateHandle(op, h)
	if err != nil {
		return nil, err
	}
	v, err := s.variable(handle, dt, create)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", op, err)
	}
	return v, nil
}

func stateBuildRead(n *Node) (Kernel, error) {
	dt, err := AttrType(n, "dtype")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt = dt.Base()
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		v, err := stateVarOf(ctx, "ReadVariableOp", in[0], dt, true)
		if err != nil {
			return nil, err
		}
		val := v.val.Load()
		if val == nil {
			return nil, fmt.Errorf("op ReadVariableOp: variable %q is not initialized (neither restored from a checkpoint nor set by an init op)", v.name)
		}
		if err := ctx.check(dt, val.Shape()); err != nil {
			return nil, fmt.Errorf("op ReadVariableOp: variable %q: %w", v.name, err)
		}
		// A copy: the caller may keep or change what it fetched.
		return []*tensor.Tensor{val.Clone()}, nil
	}), nil
}

func stateBuildAssign(n *Node, upd stateUpdate) (Kernel, error) {
	dt, err := AttrType(n, "dtype")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt = dt.Base()
	if vdt, err := InputDType(n, 1, "dtype"); err == nil && vdt != dt {
		return nil, fmt.Errorf("%w: op %s: value is %s, attr dtype is %s", ErrDType, n.Op, vdt, dt)
	}
	var combine func(old, val *tensor.Tensor) (*tensor.Tensor, error)
	if upd != stateSet {
		combine, err = stateCombiner(n.Op, dt, upd == stateSub)
		if err != nil {
			return nil, err
		}
	}
	validate, err := AttrBool(n, "validate_shape", false)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	op := n.Op
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		val := in[1]
		if val.DType() != dt {
			return nil, fmt.Errorf("%w: op %s: value is %s, expected %s", ErrDType, op, val.DType(), dt)
		}
		v, err := stateVarOf(ctx, op, in[0], dt, true)
		if err != nil {
			return nil, err
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		old := v.val.Load()
		if upd == stateSet {
			if validate && old != nil && !old.Shape().Equal(val.Shape()) {
				return nil, fmt.Errorf("%w: op %s: variable %q has shape %v, the value %v", ErrShape, op, v.name, old.Shape(), val.Shape())
			}
			v.val.Store(val.Clone())
			return []*tensor.Tensor{}, nil
		}
		if old == nil {
			return nil, fmt.Errorf("op %s: variable %q is not initialized (neither restored from a checkpoint nor set by an init op)", op, v.name)
		}
		if !old.Shape().Equal(val.Shape()) {
			return nil, fmt.Errorf("%w: op %s: cannot update variable %q of shape %v with a value of shape %v: the shapes must be equal", ErrShape, op, v.name, old.Shape(), val.Shape())
		}
		next, err := combine(old, val)
		if err != nil {
			return nil, err
		}
		v.val.Store(next)
		return []*tensor.Tensor{}, nil
	}), nil
}

// stateCombiner returns old ± val for dtype dt, as a new unpooled tensor.
func stateCombiner(op string, dt tensor.DType, sub bool) (func(old, val *tensor.Tensor) (*tensor.Tensor, error), error) {
	switch dt {
	case tensor.Float32:
		return stateAddSub[float32](sub), nil
	case tensor.Float64:
		return stateAddSub[float64](sub), nil
	case tensor.Int32:
		return stateAddSub[int32](sub), nil
	case tensor.Int64:
		return stateAddSub[int64](sub), nil
	case tensor.Int8:
		return stateAddSub[int8](sub), nil
	case tensor.Int16:
		return stateAddSub[int16](sub), nil
	case tensor.Uint8:
		return stateAddSub[uint8](sub), nil
	case tensor.Uint16:
		return stateAddSub[uint16](sub), nil
	}
	return nil, fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32, float64, int8, int16, int32, int64, uint8, uint16)", ErrDType, op, dt)
}

// stateAddSub adds (or subtracts) element-wise; integers wrap around, as
// in TensorFlow.
func stateAddSub[T tensor.Number](sub bool) func(old, val *tensor.Tensor) (*tensor.Tensor, error) {
	return func(old, val *tensor.Tensor) (*tensor.Tensor, error) {
		a, b := tensor.As[T](old), tensor.As[T](val)
		out := make([]T, len(a))
		for i := range a {
			if sub {
				out[i] = a[i] - b[i]
			} else {
				out[i] = a[i] + b[i]
			}
		}
		return tensor.Wrap(old.DType(), old.Shape().Clone(), out)
	}
}

func stateBuildIsInit(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		v, err := stateVarOf(ctx, "VarIsInitializedOp", in[0], tensor.Invalid, false)
		if err != nil {
			return nil, err
		}
		out, err := ctx.Alloc(tensor.Bool, tensor.Shape{})
		if err != nil {
			return nil, err
		}
		tensor.As[bool](out)[0] = v != nil && v.val.Load() != nil
		return []*tensor.Tensor{out}, nil
	}), nil
}
