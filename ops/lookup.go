package ops

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tfdgo/tfd/tensor"
)

// Lookup tables (tf.lookup): HashTable and MutableHashTable in their
// reference (TF1) and resource (V2) forms, the ops that fill them
// (InitializeTable, InitializeTableFromTextFile, LookupTableImport,
// LookupTableInsert) and the ops that read them (LookupTableFind,
// LookupTableSize, LookupTableExport). Semantics follow
// tensorflow/core/kernels/lookup_table_op.{h,cc},
// lookup_table_init_op.cc, initializable_lookup_table.cc and lookup_util.cc.
//
// A table lives in the model's state (ModelState), keyed by container and
// shared name like a resource variable: the init op's HashTableV2 node and
// the serving signature's create or find the same table. A HashTable is
// initializable: its first successful initializer publishes the contents
// and later lookups read them without changing them; initializing again
// succeeds only with data of the same size ("already initialized with
// different data" otherwise), and a text-file initializer of an
// initialized table does nothing. Two entries with the same key and
// different values are an error. Looking up an uninitialized HashTable is
// an error. A MutableHashTable starts empty and LookupTableInsert
// overwrites. Keys are string, int32 or int64; values string, bool,
// int32, int64, float32 or float64, one scalar per key. A lookup's
// default value is a scalar or has the keys' shape (one default per key).

func init() {
	for _, v := range []string{"", "V2"} {
		v2 := v == "V2"
		Default().Register(Spec{Name: "HashTable" + v, Doc: "creates (or finds) an initializable hash table in the model's state; outputs its handle",
			Infer: lookupInferTable(v2), Build: lookupBuildTable(v2, false), Stateful: true})
		Default().Register(Spec{Name: "MutableHashTable" + v, Doc: "creates (or finds) a mutable hash table in the model's state; outputs its handle",
			Infer: lookupInferTable(v2), Build: lookupBuildTable(v2, true), Stateful: true})
		Default().Register(Spec{Name: "LookupTableFind" + v, Doc: "the table's value for each key, or the default value for keys it lacks",
			Infer: lookupInferFind, Build: lookupBuildFind, Stateful: true})
		Default().Register(Spec{Name: "LookupTableSize" + v, Doc: "the number of entries of a table",
			Infer: lookupInferSize, Build: lookupBuildSize, Stateful: true})
		Default().Register(Spec{Name: "InitializeTable" + v, Doc: "fills an initializable table from key and value tensors, once",
			Infer: lookupInferNone(3), Build: lookupBuildInit, Stateful: true})
		Default().Register(Spec{Name: "InitializeTableFromTextFile" + v, Doc: "fills an initializable table from the lines of a text file (an asset), once",
			Infer: lookupInferNone(2), Build: lookupBuildInitFromFile, Stateful: true})
		Default().Register(Spec{Name: "LookupTableImport" + v, Doc: "replaces a table's contents (initializes an initializable table)",
			Infer: lookupInferNone(3), Build: lookupBuildWrite(lookupImport), Stateful: true})
		Default().Register(Spec{Name: "LookupTableInsert" + v, Doc: "inserts or overwrites entries of a mutable table",
			Infer: lookupInferNone(3), Build: lookupBuildWrite(lookupInsert), Stateful: true})
		Default().Register(Spec{Name: "LookupTableExport" + v, Doc: "all keys and values of a table, keys sorted",
			Infer: lookupInferExport, Build: lookupBuildExport, Stateful: true})
	}
	Default().Register(Spec{Name: "LookupTableRemoveV2", Doc: "removes keys from a mutable table",
		Infer: lookupInferNone(2), Build: lookupBuildWrite(lookupRemove), Stateful: true})
}

// lookupTable is one table of the model state.
type lookupTable interface {
	name() string
	keyDType() tensor.DType
	valueDType() tensor.DType
	mutable() bool
	initialized() bool
	size() int64
	// find writes the value of each key into out (same length), or the
	// default: def has one element, or one per key.
	find(keys, def, out *tensor.Tensor) error
	// initialize fills an initializable table from equally long keys and
	// values, once; again is allowed with data of the same size, and a
	// repeated file initializer (fromFile) is ignored.
	initialize(keys, values *tensor.Tensor, fromFile bool) error
	insert(keys, values *tensor.Tensor) error
	replace(keys, values *tensor.Tensor) error
	remove(keys *tensor.Tensor) error
	export() (keys, values *tensor.Tensor)
}

// lookupKey and lookupValue are the Go types of keys and values.
type (
	lookupKey   interface{ ~string | ~int32 | ~int64 }
	lookupValue interface {
		~string | ~bool | ~int32 | ~int64 | ~float32 | ~float64
	}
)

// lookupMap is a table with keys of type K and values of type V.
type lookupMap[K lookupKey, V lookupValue] struct {
	label    string
	kdt, vdt tensor.DType
	isMut    bool
	mu       sync.RWMutex
	m        map[K]V
	ready    atomic.Bool // an initializable table's contents are published
}

func (t *lookupMap[K, V]) name() string             { return t.label }
func (t *lookupMap[K, V]) keyDType() tensor.DType   { return t.kdt }
func (t *lookupMap[K, V]) valueDType() tensor.DType { return t.vdt }
func (t *lookupMap[K, V]) mutable() bool            { return t.isMut }
func (t *lookupMap[K, V]) initialized() bool        { return t.isMut || t.ready.Load() }

func (t *lookupMap[K, V]) size() int64 {
	if !t.initialized() {
		return 0
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return int64(len(t.m))
}

func (t *lookupMap[K, V]) find(keys, def, out *tensor.Tensor) error {
	if !t.initialized() {
		return fmt.Errorf("table %q is not initialized: the model's init op has not filled it", t.label)
	}
	k, d, o := tensor.As[K](keys), tensor.As[V](def), tensor.As[V](out)
	t.mu.RLock()
	defer t.mu.RUnlock()
	for i, key := range k {
		v, ok := t.m[key]
		if !ok {
			if len(d) == 1 {
				v = d[0]
			} else {
				v = d[i]
			}
		}
		o[i] = v
	}
	return nil
}

func (t *lookupMap[K, V]) initialize(keys, values *tensor.Tensor, fromFile bool) error {
	if t.isMut {
		return fmt.Errorf("table %q is a mutable table, which is not initializable", t.label)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k, v := tensor.As[K](keys), tensor.As[V](values)
	if t.ready.Load() {
		// AreEntriesSame in initializable_lookup_table.cc compares sizes.
		if fromFile || len(k) == len(t.m) {
			return nil
		}
		return fmt.Errorf("table %q was already initialized with different data (%d entries, now %d)", t.label, len(t.m), len(k))
	}
	m := make(map[K]V, len(k))
	for i, key := range k {
		if old, dup := m[key]; dup && old != v[i] {
			return fmt.Errorf("table %q has different values for the same key: key %v has %v and trying to add value %v", t.label, key, old, v[i])
		}
		m[key] = v[i]
	}
	t.m = m
	t.ready.Store(true)
	return nil
}

func (t *lookupMap[K, V]) insert(keys, values *tensor.Tensor) error {
	if !t.isMut {
		return fmt.Errorf("table %q is not mutable: only a MutableHashTable takes inserts", t.label)
	}
	k, v := tensor.As[K](keys), tensor.As[V](values)
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, key := range k {
		t.m[key] = v[i]
	}
	return nil
}

func (t *lookupMap[K, V]) replace(keys, values *tensor.Tensor) error {
	if !t.isMut {
		return t.initialize(keys, values, false)
	}
	k, v := tensor.As[K](keys), tensor.As[V](values)
	m := make(map[K]V, len(k))
	for i, key := range k {
		m[key] = v[i]
	}
	t.mu.Lock()
	t.m = m
	t.mu.Unlock()
	return nil
}

func (t *lookupMap[K, V]) remove(keys *tensor.Tensor) error {
	if !t.isMut {
		return fmt.Errorf("table %q is not mutable: only a MutableHashTable removes keys", t.label)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, key := range tensor.As[K](keys) {
		delete(t.m, key)
	}
	return nil
}

func (t *lookupMap[K, V]) export() (*tensor.Tensor, *tensor.Tensor) {
	t.mu.RLock()
	keys := make([]K, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	values := make([]V, len(keys))
	for i, k := range keys {
		values[i] = t.m[k]
	}
	t.mu.RUnlock()
	kt, err1 := tensor.Wrap(t.kdt, tensor.Shape{len(keys)}, keys)
	vt, err2 := tensor.Wrap(t.vdt, tensor.Shape{len(values)}, values)
	if err1 != nil || err2 != nil {
		panic(fmt.Sprintf("ops: table %q: key or value type does not match its dtype", t.label)) // an invariant of lookupNewTable
	}
	return kt, vt
}

// lookupNewTable returns a constructor of empty tables for a key and a
// value dtype, or an error naming the supported ones.
func lookupNewTable(op string, kdt, vdt tensor.DType, mutable bool) (func(label string) lookupTable, error) {
	var mk func(label string) lookupTable
	switch kdt {
	case tensor.String:
		mk = lookupWithKey[string](kdt, vdt, mutable)
	case tensor.Int64:
		mk = lookupWithKey[int64](kdt, vdt, mutable)
	case tensor.Int32:
		mk = lookupWithKey[int32](kdt, vdt, mutable)
	default:
		return nil, fmt.Errorf("%w: op %s: key dtype %s not supported (supported: string, int32, int64)", ErrDType, op, kdt)
	}
	if mk == nil {
		return nil, fmt.Errorf("%w: op %s: value dtype %s not supported (supported: string, bool, int32, int64, float32, float64)", ErrDType, op, vdt)
	}
	return mk, nil
}

func lookupWithKey[K lookupKey](kdt, vdt tensor.DType, mutable bool) func(string) lookupTable {
	switch vdt {
	case tensor.String:
		return lookupMaker[K, string](kdt, vdt, mutable)
	case tensor.Bool:
		return lookupMaker[K, bool](kdt, vdt, mutable)
	case tensor.Int32:
		return lookupMaker[K, int32](kdt, vdt, mutable)
	case tensor.Int64:
		return lookupMaker[K, int64](kdt, vdt, mutable)
	case tensor.Float32:
		return lookupMaker[K, float32](kdt, vdt, mutable)
	case tensor.Float64:
		return lookupMaker[K, float64](kdt, vdt, mutable)
	}
	return nil
}

func lookupMaker[K lookupKey, V lookupValue](kdt, vdt tensor.DType, mutable bool) func(string) lookupTable {
	return func(label string) lookupTable {
		return &lookupMap[K, V]{label: label, kdt: kdt, vdt: vdt, isMut: mutable, m: map[K]V{}}
	}
}

// table returns the table of a handle, creating it with mk when it does
// not exist; an existing table must have the same dtypes
// (lookup::CheckTableDataTypes).
func (s *ModelState) table(handle string, kdt, vdt tensor.DType, mk func(string) lookupTable) (lookupTable, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[handle]
	if !ok {
		if mk == nil {
			return nil, fmt.Errorf("table %q does not exist: the node that creates it (HashTableV2) has not run", strings.TrimPrefix(handle, stateTablePrefix))
		}
		t = mk(strings.TrimPrefix(handle, stateTablePrefix))
		s.tables[handle] = t
	}
	if kdt != tensor.Invalid && (t.keyDType() != kdt || t.valueDType() != vdt) {
		return nil, fmt.Errorf("%w: conflicting key/value dtypes %s->%s with %s->%s for table %q", ErrDType, kdt, vdt, t.keyDType(), t.valueDType(), t.name())
	}
	return t, nil
}

func lookupInferTable(v2 bool) InferFunc {
	return func(n *Node) ([]Value, error) {
		if err := NeedInputs(n, 0); err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		if v2 {
			return []Value{seqScalarValue(tensor.Resource)}, nil
		}
		return []Value{{DType: tensor.String, Shape: tensor.Known(tensor.Shape{2})}}, nil
	}
}

func lookupBuildTable(v2, mutable bool) BuildFunc {
	return func(n *Node) (Kernel, error) {
		kdt, err := AttrType(n, "key_dtype")
		if err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		vdt, err := AttrType(n, "value_dtype")
		if err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		kdt, vdt = kdt.Base(), vdt.Base()
		mk, err := lookupNewTable(n.Op, kdt, vdt, mutable)
		if err != nil {
			return nil, err
		}
		handle := TableHandle(n.Name, n.Attrs)
		container, _, _ := n.Attrs.String("container")
		key := strings.TrimPrefix(handle, stateTablePrefix)
		if container != "" {
			key = strings.TrimPrefix(key, container+"/")
		}
		op := n.Op
		return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			s, err := stateOf(ctx, op)
			if err != nil {
				return nil, err
			}
			if _, err := s.table(handle, kdt, vdt, mk); err != nil {
				return nil, fmt.Errorf("op %s: %w", op, err)
			}
			if v2 {
				h, err := stateHandleTensor(handle)
				if err != nil {
					return nil, err
				}
				return []*tensor.Tensor{h}, nil
			}
			h, err := tensor.Wrap(tensor.String, tensor.Shape{2}, []string{container, key})
			if err != nil {
				return nil, err
			}
			return []*tensor.Tensor{h}, nil
		}), nil
	}
}

// lookupTableOf returns the table a handle input names: a RESOURCE scalar
// (V2 ops) or two strings, container and name (TF1 reference handles).
func lookupTableOf(ctx *Ctx, op string, h *tensor.Tensor) (lookupTable, error) {
	s, err := stateOf(ctx, op)
	if err != nil {
		return nil, err
	}
	var handle string
	switch {
	case h.DType() == tensor.Resource && h.Len() == 1:
		handle = tensor.As[string](h)[0]
	case h.DType() == tensor.String && h.Len() == 2:
		c, name := tensor.As[string](h)[0], tensor.As[string](h)[1]
		handle = stateTablePrefix + name
		if c != "" {
			handle = stateTablePrefix + c + "/" + name
		}
	default:
		return nil, fmt.Errorf("%w: op %s: table handle is %s%v, expected a resource scalar or two strings", ErrDType, op, h.DType(), h.Shape())
	}
	if !strings.HasPrefix(handle, stateTablePrefix) {
		return nil, fmt.Errorf("%w: op %s: handle %q does not name a lookup table", ErrDType, op, handle)
	}
	t, err := s.table(handle, tensor.Invalid, tensor.Invalid, nil)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", op, err)
	}
	return t, nil
}

// lookupCheckTypes checks that a table has the key and value dtypes an op
// declares (Tin/Tout attrs), naming the op's node.
func lookupCheckTypes(op, node string, t lookupTable, kdt, vdt tensor.DType) error {
	if kdt != tensor.Invalid && t.keyDType() != kdt {
		return fmt.Errorf("%w: op %s: node %q uses keys of dtype %s, but table %q has %s keys", ErrDType, op, node, kdt, t.name(), t.keyDType())
	}
	if vdt != tensor.Invalid && t.valueDType() != vdt {
		return fmt.Errorf("%w: op %s: node %q uses values of dtype %s, but table %q has %s values", ErrDType, op, node, vdt, t.name(), t.valueDType())
	}
	return nil
}

// lookupAttrTypes returns the key and value dtypes an op declares, from
// the first present attr of each list (Invalid when none is set).
func lookupAttrTypes(n *Node, keyAttrs, valueAttrs []string) (tensor.DType, tensor.DType) {
	get := func(names []string) tensor.DType {
		for _, a := range names {
			if dt, ok, err := n.Attrs.Type(a); ok && err == nil {
				return dt.Base()
			}
		}
		return tensor.Invalid
	}
	return get(keyAttrs), get(valueAttrs)
}

func lookupInferFind(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 3); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := AttrType(n, "Tout")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{{DType: dt.Base(), Shape: n.Inputs[1].Shape}}, nil
}

func lookupBuildFind(n *Node) (Kernel, error) {
	kdt, vdt := lookupAttrTypes(n, []string{"Tin"}, []string{"Tout"})
	if vdt == tensor.Invalid {
		return nil, fmt.Errorf("%w: op %s: attr Tout is missing", ErrAttr, n.Op)
	}
	op, node := n.Op, n.Name
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		t, err := lookupTableOf(ctx, op, in[0])
		if err != nil {
			return nil, err
		}
		if err := lookupCheckTypes(op, node, t, kdt, vdt); err != nil {
			return nil, err
		}
		keys, def := in[1], in[2]
		if keys.DType() != t.keyDType() {
			return nil, fmt.Errorf("%w: op %s: keys are %s, table %q has %s keys", ErrDType, op, keys.DType(), t.name(), t.keyDType())
		}
		if def.DType() != t.valueDType() {
			return nil, fmt.Errorf("%w: op %s: default value is %s, table %q has %s values", ErrDType, op, def.DType(), t.name(), t.valueDType())
		}
		if def.Len() != 1 && !def.Shape().Equal(keys.Shape()) {
			return nil, fmt.Errorf("%w: op %s: default value has shape %v, expected a scalar or the keys' shape %v", ErrShape, op, def.Shape(), keys.Shape())
		}
		out, err := ctx.Alloc(t.valueDType(), keys.Shape())
		if err != nil {
			return nil, err
		}
		if keys.Len() > 0 {
			if def.Len() == 0 {
				return nil, fmt.Errorf("%w: op %s: default value is empty", ErrShape, op)
			}
			if err := t.find(keys, def, out); err != nil {
				out.Release()
				return nil, fmt.Errorf("op %s: %w", op, err)
			}
		}
		return []*tensor.Tensor{out}, nil
	}), nil
}

func lookupInferSize(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{seqScalarValue(tensor.Int64)}, nil
}

func lookupBuildSize(n *Node) (Kernel, error) {
	op := n.Op
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		t, err := lookupTableOf(ctx, op, in[0])
		if err != nil {
			return nil, err
		}
		out, err := ctx.Alloc(tensor.Int64, tensor.Shape{})
		if err != nil {
			return nil, err
		}
		tensor.As[int64](out)[0] = t.size()
		return []*tensor.Tensor{out}, nil
	}), nil
}

func lookupInferNone(inputs int) InferFunc {
	return func(n *Node) ([]Value, error) {
		if err := NeedInputs(n, inputs); err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		return []Value{}, nil
	}
}

// lookupCheckPairs checks keys and values given to fill a table: the
// table's dtypes, and values shaped like the keys (scalar values).
func lookupCheckPairs(op string, t lookupTable, keys, values *tensor.Tensor) error {
	if keys.DType() != t.keyDType() {
		return fmt.Errorf("%w: op %s: keys are %s, table %q has %s keys", ErrDType, op, keys.DType(), t.name(), t.keyDType())
	}
	if values.DType() != t.valueDType() {
		return fmt.Errorf("%w: op %s: values are %s, table %q has %s values", ErrDType, op, values.DType(), t.name(), t.valueDType())
	}
	if !keys.Shape().Equal(values.Shape()) {
		return fmt.Errorf("%w: op %s: keys have shape %v, values %v; expected equal shapes", ErrShape, op, keys.Shape(), values.Shape())
	}
	return nil
}

func lookupBuildInit(n *Node) (Kernel, error) {
	kdt, vdt := lookupAttrTypes(n, []string{"Tkey"}, []string{"Tval"})
	op, node := n.Op, n.Name
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		t, err := lookupTableOf(ctx, op, in[0])
		if err != nil {
			return nil, err
		}
		if err := lookupCheckTypes(op, node, t, kdt, vdt); err != nil {
			return nil, err
		}
		if err := lookupCheckPairs(op, t, in[1], in[2]); err != nil {
			return nil, err
		}
		if err := t.initialize(in[1], in[2], false); err != nil {
			return nil, fmt.Errorf("op %s: node %q: %w", op, node, err)
		}
		return []*tensor.Tensor{}, nil
	}), nil
}

// lookupWriteMode says what LookupTableImport, Insert and Remove do.
type lookupWriteMode int

const (
	lookupImport lookupWriteMode = iota
	lookupInsert
	lookupRemove
)

func lookupBuildWrite(mode lookupWriteMode) BuildFunc {
	return func(n *Node) (Kernel, error) {
		kdt, vdt := lookupAttrTypes(n, []string{"Tin"}, []string{"Tout"})
		op, node := n.Op, n.Name
		return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			t, err := lookupTableOf(ctx, op, in[0])
			if err != nil {
				return nil, err
			}
			if mode == lookupRemove {
				vdt = tensor.Invalid
			}
			if err := lookupCheckTypes(op, node, t, kdt, vdt); err != nil {
				return nil, err
			}
			switch mode {
			case lookupRemove:
				if in[1].DType() != t.keyDType() {
					return nil, fmt.Errorf("%w: op %s: keys are %s, table %q has %s keys", ErrDType, op, in[1].DType(), t.name(), t.keyDType())
				}
				err = t.remove(in[1])
			case lookupInsert:
				if err := lookupCheckPairs(op, t, in[1], in[2]); err != nil {
					return nil, err
				}
				err = t.insert(in[1], in[2])
			default:
				if err := lookupCheckPairs(op, t, in[1], in[2]); err != nil {
					return nil, err
				}
				err = t.replace(in[1], in[2])
			}
			if err != nil {
				return nil, fmt.Errorf("op %s: node %q: %w", op, node, err)
			}
			return []*tensor.Tensor{}, nil
		}), nil
	}
}

func lookupInferExport(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	kdt, err := AttrType(n, "Tkeys")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	vdt, err := AttrType(n, "Tvalues")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	vec := tensor.PartialShape{Dims: []int{-1}}
	return []Value{{DType: kdt.Base(), Shape: vec}, {DType: vdt.Base(), Shape: vec}}, nil
}

func lookupBuildExport(n *Node) (Kernel, error) {
	kdt, vdt := lookupAttrTypes(n, []string{"Tkeys"}, []string{"Tvalues"})
	op, node := n.Op, n.Name
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		t, err := lookupTableOf(ctx, op, in[0])
		if err != nil {
			return nil, err
		}
		if err := lookupCheckTypes(op, node, t, kdt, vdt); err != nil {
			return nil, err
		}
		if !t.initialized() {
			return nil, fmt.Errorf("op %s: table %q is not initialized", op, t.name())
		}
		keys, values := t.export()
		if err := ctx.check(keys.DType(), keys.Shape()); err != nil {
			return nil, fmt.Errorf("op %s: %w", op, err)
		}
		return []*tensor.Tensor{keys, values}, nil
	}), nil
}

// Text-file initializers (lookup_util.cc, TextFileLineIterator): the
// file's lines split at "\n" (a trailing "\r" is dropped, a last line
// without "\n" counts); an empty line is an error. Column -2 is the whole
// line, -1 the line number (plus offset), k ≥ 0 the k-th field when the
// line is split at the one-byte delimiter. vocab_size -1 reads every line;
// otherwise exactly that many are read and a shorter file is an error.
const (
	lookupWholeLine  = -2
	lookupLineNumber = -1
)

// lookupTextSpec is a text-file initializer's attrs.
type lookupTextSpec struct {
	keyIndex, valueIndex int64
	vocabSize, offset    int64
	delim                byte
}

func lookupBuildInitFromFile(n *Node) (Kernel, error) {
	var sp lookupTextSpec
	var err error
	if sp.keyIndex, err = AttrInt(n, "key_index", 0); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if sp.valueIndex, err = AttrInt(n, "value_index", 0); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if sp.vocabSize, err = AttrInt(n, "vocab_size", -1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if sp.offset, err = AttrInt(n, "offset", 0); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	delim, err := AttrString(n, "delimiter", "\t")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if len(delim) != 1 {
		return nil, fmt.Errorf("%w: op %s: delimiter %q must be one byte", ErrAttr, n.Op, delim)
	}
	sp.delim = delim[0]
	if sp.keyIndex < lookupWholeLine || sp.valueIndex < lookupWholeLine {
		return nil, fmt.Errorf("%w: op %s: key_index %d and value_index %d must be ≥ -2", ErrAttr, n.Op, sp.keyIndex, sp.valueIndex)
	}
	if sp.vocabSize < -1 || sp.vocabSize == 0 {
		return nil, fmt.Errorf("%w: op %s: vocab_size %d must be -1 or positive", ErrAttr, n.Op, sp.vocabSize)
	}
	op := n.Op
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		t, err := lookupTableOf(ctx, op, in[0])
		if err != nil {
			return nil, err
		}
		if in[1].DType() != tensor.String || in[1].Len() != 1 {
			return nil, fmt.Errorf("%w: op %s: filename is %s%v, expected a string scalar", ErrDType, op, in[1].DType(), in[1].Shape())
		}
		if t.initialized() && !t.mutable() {
			return []*tensor.Tensor{}, nil // a file initializer of an initialized table does nothing
		}
		path := tensor.As[string](in[1])[0]
		s, err := stateOf(ctx, op)
		if err != nil {
			return nil, err
		}
		data, err := s.readFile(op, path)
		if err != nil {
			return nil, err
		}
		keys, values, err := lookupParseText(data, sp, t.keyDType(), t.valueDType(), ctx.MaxElements)
		if err != nil {
			return nil, fmt.Errorf("op %s: table %q: file %s: %w", op, t.name(), path, err)
		}
		if err := t.initialize(keys, values, true); err != nil {
			return nil, fmt.Errorf("op %s: file %s: %w", op, path, err)
		}
		return []*tensor.Tensor{}, nil
	}), nil
}

// lookupParseText parses a text file into key and value tensors.
func lookupParseText(data []byte, sp lookupTextSpec, kdt, vdt tensor.DType, maxElems int) (*tensor.Tensor, *tensor.Tensor, error) {
	if err := lookupCheckColumn("key", sp.keyIndex, kdt); err != nil {
		return nil, nil, err
	}
	if err := lookupCheckColumn("value", sp.valueIndex, vdt); err != nil {
		return nil, nil, err
	}
	lines := lookupSplitLines(string(data))
	if sp.vocabSize > 0 {
		if int64(len(lines)) < sp.vocabSize {
			return nil, nil, fmt.Errorf("invalid vocab_size: expected %d lines but the file has %d", sp.vocabSize, len(lines))
		}
		lines = lines[:sp.vocabSize]
	}
	if maxElems > 0 && len(lines) > maxElems {
		return nil, nil, fmt.Errorf("%d lines, more than the limit of %d elements: %w", len(lines), maxElems, ErrLimit)
	}
	kc, err := lookupNewColumn(kdt, len(lines))
	if err != nil {
		return nil, nil, err
	}
	vc, err := lookupNewColumn(vdt, len(lines))
	if err != nil {
		return nil, nil, err
	}
	need := max(sp.keyIndex, sp.valueIndex) + 1
	var fields []string
	for i, line := range lines {
		if line == "" {
			return nil, nil, fmt.Errorf("line %d is empty", i+1)
		}
		if need > 0 {
			fields = strings.Split(line, string(sp.delim))
			if int64(len(fields)) < need {
				return nil, nil, fmt.Errorf("line %d (%q): expected at least %d fields separated by %q, found %d", i+1, line, need, sp.delim, len(fields))
			}
		}
		for _, c := range []struct {
			col   *lookupColumn
			index int64
		}{{kc, sp.keyIndex}, {vc, sp.valueIndex}} {
			if err := c.col.set(i, line, fields, c.index, sp.offset); err != nil {
				return nil, nil, fmt.Errorf("line %d: %w", i+1, err)
			}
		}
	}
	return kc.t, vc.t, nil
}

// lookupSplitLines splits text as TensorFlow's InputBuffer::ReadLine reads
// it: at "\n", dropping one trailing "\r" per line; text after the last
// "\n" is a line when not empty.
func lookupSplitLines(text string) []string {
	lines := strings.Split(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// lookupCheckColumn checks that a column index fits a dtype
// (InitializeTableFromTextFile in lookup_util.cc).
func lookupCheckColumn(what string, index int64, dt tensor.DType) error {
	switch {
	case index == lookupLineNumber && dt != tensor.Int64:
		return fmt.Errorf("%w: %s index -1 (the line number) needs a table %s dtype of int64, got %s", ErrDType, what, what, dt)
	case index == lookupWholeLine && dt != tensor.String && dt != tensor.Int32 && dt != tensor.Int64:
		return fmt.Errorf("%w: %s index -2 (the whole line) needs a table %s dtype of string or an integer, got %s", ErrDType, what, what, dt)
	}
	switch dt {
	case tensor.String, tensor.Int32, tensor.Int64, tensor.Float32, tensor.Float64:
		return nil
	}
	return fmt.Errorf("%w: %s dtype %s cannot be read from a text file (supported: string, int32, int64, float32, float64)", ErrDType, what, dt)
}

// lookupColumn is the key or value tensor being filled from a text file.
type lookupColumn struct {
	t *tensor.Tensor
}

func lookupNewColumn(dt tensor.DType, n int) (*lookupColumn, error) {
	t, err := tensor.New(dt, tensor.Shape{n}, 0)
	if err != nil {
		return nil, err
	}
	return &lookupColumn{t: t}, nil
}

// set stores element i from a line, as TextFileLineIterator::SetValue
// does: the line number plus offset for index -1; an int32 field plus
// offset; other fields as they parse.
func (c *lookupColumn) set(i int, line string, fields []string, index, offset int64) error {
	if index == lookupLineNumber {
		tensor.As[int64](c.t)[i] = int64(i) + offset
		return nil
	}
	tok := line
	if index >= 0 {
		tok = fields[index]
	}
	num := strings.TrimSpace(tok)
	switch c.t.DType() {
	case tensor.String:
		tensor.As[string](c.t)[i] = tok
	case tensor.Int32:
		v, err := strconv.ParseInt(num, 10, 32)
		if err != nil {
			return fmt.Errorf("field %q is not a valid int32", tok)
		}
		tensor.As[int32](c.t)[i] = int32(v + offset)
	case tensor.Int64:
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return fmt.Errorf("field %q is not a valid int64", tok)
		}
		tensor.As[int64](c.t)[i] = v
	case tensor.Float32:
		v, err := strconv.ParseFloat(num, 32)
		if err != nil {
			return fmt.Errorf("field %q is not a valid float", tok)
		}
		tensor.As[float32](c.t)[i] = float32(v)
	case tensor.Float64:
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return fmt.Errorf("field %q is not a valid double", tok)
		}
		tensor.As[float64](c.t)[i] = v
	}
	return nil
}
