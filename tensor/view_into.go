package tensor

import "fmt"

// ViewInto is View writing the view into *dst instead of a new Tensor, for
// callers that keep a header to reuse (ops.Ctx.View keeps one per plan
// node) and so allocate nothing. The view uses shape itself, not a copy:
// shape must not change while the view is in use. dst must not be in use:
// ViewInto refuses a dst that still holds a reference to pooled storage
// (one not yet released) or that is t itself.
func (t *Tensor) ViewInto(dst *Tensor, shape Shape) error {
	if dst == t || dst.buf != nil {
		return fmt.Errorf("tensor: ViewInto's destination is still in use")
	}
	n, err := shape.NumElements()
	if err != nil {
		return err
	}
	if n != t.Len() {
		return fmt.Errorf("tensor: cannot view %d elements as shape %v", t.Len(), shape.Clone())
	}
	if t.buf != nil {
		t.buf.refs.Add(1)
	}
	*dst = Tensor{dtype: t.dtype, shape: shape, data: t.data, buf: t.buf}
	return nil
}
