package ops

import (
	"fmt"
	"strconv"
	"sync"
)

// Resources is the mutable state that stateful kernels of one run share:
// TensorArrays, TensorLists' storage and the like. A resource is created by
// one kernel, which outputs its handle as a RESOURCE tensor (a string naming
// it), and used by the kernels that receive that handle. The scheduler
// makes one Resources per run, so runs never see each other's state.
//
// Resources is safe for concurrent use; the values it holds must protect
// themselves if kernels may use them concurrently.
type Resources struct {
	mu    sync.Mutex
	next  int64
	m     map[string]any
	model *ModelState // shared with the model's other runs; see SetModel (state.go)
}

// NewResources returns an empty store.
func NewResources() *Resources { return &Resources{m: map[string]any{}} }

// Add stores v and returns a new handle for it, prefixed by kind for
// readable messages ("TensorArray:3").
func (r *Resources) Add(kind string, v any) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	h := kind + ":" + strconv.FormatInt(r.next, 10)
	r.m[h] = v
	return h
}

// Get returns the resource of a handle.
func (r *Resources) Get(handle string) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[handle]
	if !ok {
		return nil, fmt.Errorf("resource %q does not exist (closed, or created by another run)", handle)
	}
	return v, nil
}

// Delete drops a resource.
func (r *Resources) Delete(handle string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, handle)
}

// Len returns the number of live resources.
func (r *Resources) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
