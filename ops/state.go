package ops

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tfdgo/tfd/tensor"
)

// ModelState is the state a model keeps across runs, beside the per-run
// Resources: resource variables whose value a run may change (a counter's
// AssignAddVariableOp) and lookup tables, which the model's init op fills
// once at load and runs then read. TensorFlow keeps both in the session's
// resource manager, keyed by container and shared name
// (tensorflow/core/framework/resource_mgr.h); ModelState keys them the same
// way, so every plan of one model (each signature, the init op) reaches
// the same variable or table through its own VarHandleOp or HashTableV2
// node.
//
// ModelState is safe for concurrent use. A variable holds an immutable
// snapshot: writes of one variable are serialized and replace the
// snapshot, so a read sees the value before or after a write, never a mix,
// and a tensor a run has read is never changed afterwards. A table's
// contents are published once, whole, when its initializer succeeds;
// mutable tables lock around inserts.
type ModelState struct {
	files  FileAccess
	mu     sync.Mutex
	vars   map[string]*stateVar
	tables map[string]lookupTable
}

// FileAccess says which files the ops that read files (ReadFile,
// InitializeTableFromTextFileV2) may open: a model file names paths, and
// a model is untrusted input.
type FileAccess struct {
	// Dirs lists the directories whose files, at any depth, may be read
	// (a SavedModel's assets/ directory); none means no file may be read.
	Dirs []string
	// MaxBytes bounds the size of one file read (0: DefaultMaxFileBytes).
	MaxBytes int64
}

// DefaultMaxFileBytes bounds a file read when FileAccess.MaxBytes is 0.
const DefaultMaxFileBytes int64 = 2 << 30

// stateVar is one resource variable. The value is an immutable snapshot,
// replaced under mu by writers and loaded without a lock by readers.
type stateVar struct {
	name  string // for messages
	dtype tensor.DType
	mu    sync.Mutex
	val   atomic.Pointer[tensor.Tensor]
}

// NewModelState returns an empty state whose file-reading ops may read
// what files allows.
func NewModelState(files FileAccess) *ModelState {
	return &ModelState{files: files, vars: map[string]*stateVar{}, tables: map[string]lookupTable{}}
}

// Handles name variables and tables in RESOURCE tensors: "variable:" or
// "table:" followed by the key, which is the shared name, prefixed by
// "container/" when the container is not empty.
const (
	stateVarPrefix   = "variable:"
	stateTablePrefix = "table:"
)

// stateKey is TensorFlow's resource name of a node: its shared_name attr,
// or the node name when that is empty (ContainerInfo::Init with name
// sharing, which VarHandleOp and the tables' use_node_name_sharing ask
// for; without it TensorFlow makes a name private to the kernel, which in
// a session lives as long as the node, so the node name is equivalent).
func stateKey(node string, attrs tensor.Attrs) string {
	name, _, _ := attrs.String("shared_name")
	if name == "" {
		name = node
	}
	if c, _, _ := attrs.String("container"); c != "" {
		return c + "/" + name
	}
	return name
}

// VariableHandle returns the handle a VarHandleOp node named node with
// these attrs outputs: what ModelState.Variable takes.
func VariableHandle(node string, attrs tensor.Attrs) string {
	return stateVarPrefix + stateKey(node, attrs)
}

// TableHandle returns the handle of the lookup table a HashTableV2 (or
// HashTable, MutableHashTableV2, ...) node creates: what ModelState.Table
// takes.
func TableHandle(node string, attrs tensor.Attrs) string {
	return stateTablePrefix + stateKey(node, attrs)
}

// Variable returns the current value of the variable with the given handle
// (see VariableHandle); ok is false when it is not set. The tensor must not
// be modified.
func (s *ModelState) Variable(handle string) (t *tensor.Tensor, ok bool) {
	s.mu.Lock()
	v := s.vars[handle]
	s.mu.Unlock()
	if v == nil {
		return nil, false
	}
	t = v.val.Load()
	return t, t != nil
}

// VariableHandles returns the handles of the variables that hold a value,
// sorted.
func (s *ModelState) VariableHandles() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.vars))
	for h, v := range s.vars {
		if v.val.Load() != nil {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// Table returns the contents of an initialized lookup table (see
// TableHandle) as two rank-1 tensors, keys sorted; ok is false when the
// table does not exist or is not initialized.
func (s *ModelState) Table(handle string) (keys, values *tensor.Tensor, ok bool) {
	s.mu.Lock()
	t := s.tables[handle]
	s.mu.Unlock()
	if t == nil || !t.initialized() {
		return nil, nil, false
	}
	keys, values = t.export()
	return keys, values, true
}

// variable returns the variable of a handle, creating it with dtype dt
// when create is set; a variable created earlier with another dtype is an
// error, as in TensorFlow (the handle's dtype must match the variable's).
func (s *ModelState) variable(handle string, dt tensor.DType, create bool) (*stateVar, error) {
	if !strings.HasPrefix(handle, stateVarPrefix) {
		return nil, fmt.Errorf("%w: handle %q does not name a variable", ErrDType, handle)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vars[handle]
	if v == nil {
		if !create {
			return nil, nil
		}
		v = &stateVar{name: strings.TrimPrefix(handle, stateVarPrefix), dtype: dt}
		s.vars[handle] = v
	}
	if dt != tensor.Invalid && v.dtype != dt {
		return nil, fmt.Errorf("%w: variable %q holds %s, the op uses %s", ErrDType, v.name, v.dtype, dt)
	}
	return v, nil
}

// readFile returns the contents of a file that the state's FileAccess
// allows, for op.
func (s *ModelState) readFile(op, path string) ([]byte, error) {
	abs, err := s.checkPath(op, path)
	if err != nil {
		return nil, err
	}
	max := s.files.MaxBytes
	if max <= 0 {
		max = DefaultMaxFileBytes
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("op %s: reading %s: %w", op, path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", op, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("op %s: %s is not a regular file", op, path)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("op %s: file %s has %d bytes, more than the limit %d: %w", op, path, st.Size(), max, ErrLimit)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("op %s: reading %s: %w", op, path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("op %s: file %s grew past the limit of %d bytes while read: %w", op, path, max, ErrLimit)
	}
	return data, nil
}

// ReadFile returns the contents of a file that the state's FileAccess
// allows (what the ReadFile op reads).
func (s *ModelState) ReadFile(path string) ([]byte, error) { return s.readFile("ReadFile", path) }

// checkPath resolves path (symbolic links included) and checks that it
// lies inside one of the allowed directories.
func (s *ModelState) checkPath(op, path string) (string, error) {
	if len(s.files.Dirs) == 0 {
		return "", fmt.Errorf("op %s: reading %s: the model may read no files (only files under a SavedModel's assets directory, or the directory tfd.Options.AssetsDir names, are allowed)", op, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("op %s: %w", op, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("op %s: reading %s: %w", op, path, err)
	}
	for _, d := range s.files.Dirs {
		root, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(root); err == nil {
			root = r
		}
		if rel, err := filepath.Rel(root, real); err == nil && filepath.IsLocal(rel) {
			return real, nil
		}
	}
	return "", fmt.Errorf("op %s: reading %s: the file is outside the directories the model may read (%s)", op, path, strings.Join(s.files.Dirs, ", "))
}

// SetModel makes s the model state that kernels of the run reach through
// Model. Call it before the run starts; nil leaves the default, a state
// private to the run.
func (r *Resources) SetModel(s *ModelState) {
	r.mu.Lock()
	r.model = s
	r.mu.Unlock()
}

// Model returns the model state of the run: the one SetModel gave, else a
// state private to this run (variables and tables then last only as long
// as the run, and no file may be read).
func (r *Resources) Model() *ModelState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.model == nil {
		r.model = NewModelState(FileAccess{})
	}
	return r.model
}

// stateOf returns the model state a stateful kernel of op type op uses.
func stateOf(ctx *Ctx, op string) (*ModelState, error) {
	res, err := ctx.State()
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", op, err)
	}
	return res.Model(), nil
}

// stateHandle returns the string a RESOURCE scalar input holds.
func stateHandle(op string, h *tensor.Tensor) (string, error) {
	if h.DType() != tensor.Resource || h.Len() != 1 {
		return "", fmt.Errorf("%w: op %s: handle is %s%v, expected a resource scalar", ErrDType, op, h.DType(), h.Shape())
	}
	return tensor.As[string](h)[0], nil
}

// stateHandleTensor returns a RESOURCE scalar holding handle.
func stateHandleTensor(handle string) (*tensor.Tensor, error) {
	return tensor.Wrap(tensor.Resource, tensor.Shape{}, []string{handle})
}
