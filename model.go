package tfd

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/sched"
	"github.com/tfdgo/tfd/tensor"
	"github.com/tfdgo/tfd/tracing"
)

// Tensor is a dense n-dimensional array; see package tensor.
type Tensor = tensor.Tensor

// DType is an element type; see package tensor.
type DType = tensor.DType

// Shape is a tensor shape; see package tensor.
type Shape = tensor.Shape

// Profiler records per-op costs of the runs it is passed to; see package
// tracing. It is safe for concurrent use.
type Profiler = tracing.Recorder

// NewProfiler returns an empty profiler.
func NewProfiler() *Profiler { return tracing.NewRecorder(tracing.Options{}) }

// FromSlice wraps data as a tensor of the given shape (not copied).
func FromSlice[T tensor.Elem](shape []int, data []T) *Tensor {
	return tensor.FromSlice(tensor.Shape(shape), data)
}

// Errors that callers may test for with errors.Is.
var (
	ErrUnsupportedOp = ops.ErrUnsupportedOp
	ErrLimit         = tensor.ErrLimit
	ErrCanceled      = sched.ErrCanceled
	ErrShape         = ops.ErrShape
)

// Limits bounds what an untrusted model file may make tfd allocate. The
// zero value means the documented defaults of graph.Limits and
// sched.DefaultMaxElements.
type Limits struct {
	MaxFileBytes  int64 // size of a model file
	MaxNodes      int   // nodes in a graph
	MaxElements   int   // elements of any one tensor, constant or computed
	MaxConstBytes int64 // bytes of all constants of a graph
	MaxRank       int   // rank of any shape
	// MaxIterations bounds the iterations of every TF1 while-loop frame of
	// a run (0: sched.DefaultMaxIterations); a run's context deadline
	// bounds loops too.
	MaxIterations int
	// MaxRunBytes bounds the bytes that the tensors of one run (its
	// intermediate values, kernels' scratch and its outputs; not feeds or
	// constants) hold at once (0: sched.DefaultMaxRunBytes, 4 GiB;
	// negative: no bound). A run that would exceed it fails with an error
	// wrapping ErrLimit that names the node and the sizes. Plans with TF1
	// control flow are bounded by MaxElements and MaxIterations only.
	MaxRunBytes int64
}

func (l Limits) graph() graph.Limits {
	return graph.Limits{MaxFileBytes: l.MaxFileBytes, MaxNodes: l.MaxNodes, MaxElements: l.MaxElements, MaxConstBytes: l.MaxConstBytes, MaxRank: l.MaxRank}
}

// Options configures Load. The zero value is valid.
type Options struct {
	// Name names the model in errors and profiles; default: the file name
	// without extension.
	Name string
	// Workers is the default number of goroutines per run; 0 means
	// GOMAXPROCS.
	Workers int
	// Registry supplies kernels; nil means ops.Default(). Clone the default
	// registry to add custom ops for one model.
	Registry *ops.Registry
	// Prefer names kernel implementations to prefer for every op
	// ("gonum"); Impl chooses one per op type and wins over Prefer.
	Prefer []string
	Impl   map[string]string
	// Limits bounds allocations driven by the model file.
	Limits Limits
	// Tags selects a SavedModel's MetaGraph (default "serve", then the only
	// one, then the empty tag set).
	Tags []string
	// FrozenVariableOps registers Assign, AssignAdd, AssignSub and the
	// Scatter*/ScatterNd* update ops (ops.RegisterFrozenVariableOps) for
	// graphs whose variables were frozen into constants before those ops
	// ran: each returns the updated copy of its constant. Off by default,
	// because a model that updates a variable between runs would silently
	// lose the update.
	FrozenVariableOps bool
	// AssetsDir names a directory whose files the model's file-reading ops
	// (ReadFile, InitializeTableFromTextFileV2) may read, besides a
	// SavedModel's own assets/ directory; no other file may be read.
	AssetsDir string
	// NoFusion compiles plans without fusing nodes (sched.Options.NoFusion):
	// every graph node then runs as its own kernel, as when comparing with
	// or profiling the unfused ops.
	NoFusion bool
}

// Model is a loaded graph. It is safe for concurrent use.
type Model struct {
	name   string
	path   string
	graph  *graph.Graph
	opt    Options
	pool   *pool.Pool
	mu     sync.Mutex
	plans  map[string]*sched.Plan
	inputs []TensorInfo
	sigs   signatures
	loaded *loaded
	// state holds the variables and tables that outlive a run (state.go).
	state *ops.ModelState
}

// TensorInfo describes a graph input or output.
type TensorInfo struct {
	Name  string              `json:"name"`
	DType DType               `json:"dtype"`
	Shape tensor.PartialShape `json:"shape"`
	// Optional is set for inputs with a default value
	// (PlaceholderWithDefault) that need not be fed.
	Optional bool `json:"optional,omitempty"`
}

// maxCachedPlans bounds the per-model plan cache.
const maxCachedPlans = 256

// Option configures Load. Options (the struct) is an Option, and so are
// the functions UseImpl, PreferImpl, WithRegistry, WithName, WithWorkers
// and WithoutFusion,
// so that
//
//	tfd.Load(path, tfd.Options{Workers: 2})
//	tfd.Load(path, tfd.UseImpl("MatMul", "gonum"), tfd.WithName("a"))
//
// both work. Later options override earlier ones field by field.
type Option interface{ apply(*Options) }

func (o Options) apply(dst *Options) {
	if o.Name != "" {
		dst.Name = o.Name
	}
	if o.Workers != 0 {
		dst.Workers = o.Workers
	}
	if o.Registry != nil {
		dst.Registry = o.Registry
	}
	dst.Prefer = append(dst.Prefer, o.Prefer...)
	for op, impl := range o.Impl {
		if dst.Impl == nil {
			dst.Impl = map[string]string{}
		}
		dst.Impl[op] = impl
	}
	if o.Limits != (Limits{}) {
		dst.Limits = o.Limits
	}
	if o.Tags != nil {
		dst.Tags = o.Tags
	}
	if o.FrozenVariableOps {
		dst.FrozenVariableOps = true
	}
	if o.AssetsDir != "" {
		dst.AssetsDir = o.AssetsDir
	}
	if o.NoFusion {
		dst.NoFusion = true
	}
}

type optionFunc func(*Options)

func (f optionFunc) apply(o *Options) { f(o) }

// UseImpl selects the implementation named impl for every node of op type
// op (like tfdeploy's per-op implementation choice). Compiling fails if the
// op has no implementation of that name.
func UseImpl(op, impl string) Option {
	return optionFunc(func(o *Options) {
		if o.Impl == nil {
			o.Impl = map[string]string{}
		}
		o.Impl[op] = impl
	})
}

// PreferImpl prefers the implementation named impl for every op that has
// one (like tfdeploy's global IMPL_SCIPY setting); other ops keep their
// best implementation.
func PreferImpl(impl string) Option {
	return optionFunc(func(o *Options) { o.Prefer = append(o.Prefer, impl) })
}

// WithRegistry makes the model use reg for its kernels, for example a
// clone of ops.Default() with custom ops registered.
func WithRegistry(reg *ops.Registry) Option {
	return optionFunc(func(o *Options) { o.Registry = reg })
}

// WithName names the model in errors and profiles.
func WithName(name string) Option { return optionFunc(func(o *Options) { o.Name = name }) }

// WithWorkers sets the model's default number of goroutines per run.
func WithWorkers(n int) Option { return optionFunc(func(o *Options) { o.Workers = n }) }

// WithoutFusion turns off the fusion of nodes when plans are compiled: a
// product and its bias and activation, or a chain of element-wise ops, then
// run as separate kernels. Fused plans give the same results (bit for bit,
// except where a batch normalization is folded into a convolution's
// filter); this option is for profiling and comparing the unfused ops.
func WithoutFusion() Option { return optionFunc(func(o *Options) { o.NoFusion = true }) }

func collect(opts []Option) Options {
	var o Options
	for _, op := range opts {
		if op != nil {
			op.apply(&o)
		}
	}
	return o
}

// Load reads a model in any format TensorFlow writes for deployment and
// checks that the ops it needs have kernels. path may be
//
//   - a frozen GraphDef: model.pb (binary) or model.pbtxt (text);
//   - a SavedModel directory (saved_model.pb or .pbtxt, variables/), TF1 or
//     TF2, or a TF Serving base directory of numbered versions (the latest
//     is loaded);
//   - a TF1 checkpoint: its prefix (model.ckpt-100), its .meta or .index
//     file, or a directory holding a `checkpoint` state file;
//   - a TF.js graph model: model.json or its directory.
//
// For a frozen GraphDef every op must have a kernel. For formats with
// signatures, the default signature's ops must; other signatures fail when
// used if theirs do not.
func Load(path string, opts ...Option) (*Model, error) {
	opt := collect(opts)
	l, err := loadAny(path, opt)
	if err != nil {
		return nil, err
	}
	return newLoaded(path, l, opt)
}

// FromGraph wraps an already decoded graph as a Model.
func FromGraph(g *graph.Graph, opts ...Option) (*Model, error) {
	return newLoaded(g.Source, &loaded{graph: g, format: FormatGraphDef, producer: g.Versions.Producer}, collect(opts))
}

func newLoaded(path string, l *loaded, opt Options) (*Model, error) {
	g := l.graph
	if g == nil {
		return nil, errNoGraph
	}
	if opt.Name == "" {
		opt.Name = defaultName(path)
	}
	reg, err := opt.registry()
	if err != nil {
		return nil, err
	}
	opt.Registry = reg
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	m := &Model{name: opt.Name, path: path, graph: g, opt: opt, pool: pool.New(), plans: map[string]*sched.Plan{}, loaded: l, state: newState(l, opt)}
	nodes := g.Nodes
	switch {
	case len(l.sigs) > 0:
		in, out := signatureTensors(l.sigs[defaultSignatureKey(l.sigs)])
		nodes = neededNodes(g, in, out)
		m.sigs.m = l.sigs
	case l.format == FormatCheckpoint:
		// A checkpoint's graph is the whole training graph, with no
		// signature to say what serving needs: ops are checked when a plan
		// is compiled for the fetched tensors.
		nodes = nil
	}
	if err := checkOps("", nodes, opt.Registry); err != nil {
		return nil, m.wrap(err)
	}
	m.inputs = placeholders(g)
	if err := m.initState(l.init); err != nil {
		return nil, err
	}
	return m, nil
}

// registry returns the registry the options ask for: Registry (default
// ops.Default()), with the frozen-variable ops added when asked.
func (o Options) registry() (*ops.Registry, error) {
	reg := o.Registry
	if reg == nil {
		reg = ops.Default()
	}
	if o.FrozenVariableOps {
		reg = reg.Clone()
		if err := ops.RegisterFrozenVariableOps(reg); err != nil {
			return nil, fmt.Errorf("tfd: %w", err)
		}
	}
	return reg, nil
}

// defaultName names a model after its path: the file name without
// extension, or the directory's name; version directories ("00000123") and
// generic file names (model.json, saved_model.pb) take their parent's name.
func defaultName(path string) string {
	if path == "" {
		return "model"
	}
	p := filepath.Clean(path)
	for {
		name := filepath.Base(p)
		switch ext := filepath.Ext(name); ext {
		case ".pb", ".pbtxt", ".json", ".meta", ".index", ".txt":
			name = strings.TrimSuffix(name, ext)
		}
		generic := name == "model" || name == "saved_model" || name == "variables" || isDigits(name)
		parent := filepath.Dir(p)
		if !generic || parent == p || parent == "." || parent == "/" {
			return name
		}
		p = parent
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Format returns the format the model was loaded from: FormatGraphDef,
// graph.FormatSavedModelTF1/TF2, FormatCheckpoint or FormatTFJS.
func (m *Model) Format() string { return m.loaded.format }

// checkOps fails with one error naming every op type without a kernel.
func checkOps(model string, nodes []*graph.Node, reg *ops.Registry) error {
	first := map[string]string{}
	count := map[string]int{}
	for _, n := range nodes {
		if _, ok := reg.Lookup(n.Op); !ok {
			if _, seen := first[n.Op]; !seen {
				first[n.Op] = n.Name
			}
			count[n.Op]++
		}
	}
	if len(first) == 0 {
		return nil
	}
	return sched.UnsupportedError(model, first, count)
}

func placeholders(g *graph.Graph) []TensorInfo {
	var out []TensorInfo
	for _, n := range g.Nodes {
		if n.Op != "Placeholder" && n.Op != "PlaceholderV2" && n.Op != "PlaceholderWithDefault" {
			continue
		}
		ti := TensorInfo{Name: n.Name, Shape: tensor.UnknownShape(), Optional: n.Op == "PlaceholderWithDefault"}
		if dt, ok, _ := n.Attrs.Type("dtype"); ok {
			ti.DType = dt.Base()
		}
		if sh, ok, _ := n.Attrs.Shape("shape"); ok {
			ti.Shape = sh
		}
		out = append(out, ti)
	}
	return out
}

// Name returns the model's name.
func (m *Model) Name() string { return m.name }

// Graph returns the decoded graph. It must not be modified.
func (m *Model) Graph() *graph.Graph { return m.graph }

// Inputs returns the graph's placeholders.
func (m *Model) Inputs() []TensorInfo { return append([]TensorInfo(nil), m.inputs...) }

// Outputs returns the graph's outputs: the first output of every node that
// no other node consumes, NoOps and placeholders aside, in file order.
func (m *Model) Outputs() []string { return GraphOutputs(m.graph) }

// GraphOutputs returns the nodes of g that nothing consumes (NoOps,
// placeholders and nodes without outputs aside).
func GraphOutputs(g *graph.Graph) []string {
	used := map[string]bool{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			used[in.Node] = true
		}
		for _, c := range n.ControlInputs {
			used[c] = true
		}
	}
	var out []string
	for _, n := range g.Nodes {
		switch n.Op {
		case "NoOp", "Placeholder", "PlaceholderV2", "Assert", "SaveV2", "RestoreV2":
			continue
		}
		if !used[n.Name] {
			out = append(out, n.Name)
		}
	}
	return out
}

// RunOptions configures one call of RunWith. The zero value uses the
// model's defaults.
type RunOptions struct {
	// Workers overrides the model's number of goroutines for this run.
	Workers int
	// SliceRows sets the rows per batch slice (0: slices of the batch, a
	// few per worker, once the runs of the first batches of that shape
	// have shown the work long enough to share; negative: never slice).
	SliceRows int
	// Profile, when non-nil, records the cost of every op of the run.
	Profile *Profiler
}

// Run evaluates the fetched tensors given the feeds (tensor names "node" or
// "node:k"), with the model's default options.
func (m *Model) Run(ctx context.Context, feeds map[string]*Tensor, fetches ...string) ([]*Tensor, error) {
	return m.RunWith(ctx, RunOptions{}, feeds, fetches...)
}

// RunWith is Run with per-call options.
func (m *Model) RunWith(ctx context.Context, opt RunOptions, feeds map[string]*Tensor, fetches ...string) ([]*Tensor, error) {
	names := make([]string, 0, len(feeds))
	for k := range feeds {
		names = append(names, k)
	}
	sort.Strings(names)
	plan, err := m.Plan(names, fetches)
	if err != nil {
		return nil, err
	}
	in := make([]*Tensor, len(names))
	for i, n := range names {
		in[i] = feeds[n]
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = m.opt.Workers
	}
	outs, err := plan.Run(ctx, in, sched.RunOptions{Workers: workers, Recorder: opt.Profile, SliceRows: opt.SliceRows})
	if err != nil {
		return nil, m.wrap(err)
	}
	return outs, nil
}

// Plan returns the compiled plan for the given feeds and fetches, compiling
// it on first use. Feeds must be given sorted for the plan's feed order to
// match what Run expects; RunWith does this.
func (m *Model) Plan(feeds, fetches []string) (*sched.Plan, error) {
	key := strings.Join(feeds, "\x00") + "\x01" + strings.Join(fetches, "\x00")
	m.mu.Lock()
	p, ok := m.plans[key]
	m.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := sched.Compile(m.graph, feeds, fetches, sched.Options{
		Registry:      m.opt.Registry,
		Model:         m.name,
		Prefer:        m.opt.Prefer,
		Impl:          m.opt.Impl,
		MaxElements:   m.opt.Limits.MaxElements,
		MaxIterations: m.opt.Limits.MaxIterations,
		MaxRunBytes:   m.opt.Limits.MaxRunBytes,
		Pool:          m.pool,
		NoFusion:      m.opt.NoFusion,
		State:         m.state,
	})
	if err != nil {
		return nil, m.wrap(err)
	}
	m.mu.Lock()
	if len(m.plans) >= maxCachedPlans {
		clear(m.plans)
	}
	m.plans[key] = p
	m.mu.Unlock()
	return p, nil
}

// Handle names one tensor of a model, in the spirit of tfdeploy's
// model.get(): fetch it with Eval, or feed it with Feed.
type Handle struct {
	r    runner
	name string
}

// runner is what a Handle evaluates against: a Model or an Ensemble.
type runner interface {
	Run(ctx context.Context, feeds map[string]*Tensor, fetches ...string) ([]*Tensor, error)
}

// Feed pairs a tensor name with the value fed to it.
type Feed struct {
	Name  string
	Value *Tensor
}

// Get returns handles for the named tensors ("node" or "node:k"). Unknown
// names are reported when the handle is evaluated or fed.
func (m *Model) Get(names ...string) []*Handle {
	hs := make([]*Handle, len(names))
	for i, n := range names {
		hs[i] = &Handle{r: m, name: n}
	}
	return hs
}

// Tensor returns a handle for one named tensor.
func (m *Model) Tensor(name string) *Handle { return &Handle{r: m, name: name} }

// Name returns the tensor name of the handle.
func (h *Handle) Name() string { return h.name }

// Feed returns a Feed of v into this tensor.
func (h *Handle) Feed(v *Tensor) Feed { return Feed{Name: h.name, Value: v} }

// Eval evaluates the tensor given the feeds, with the model's defaults.
func (h *Handle) Eval(feeds ...Feed) (*Tensor, error) {
	return h.EvalContext(context.Background(), feeds...)
}

// EvalContext is Eval with a context.
func (h *Handle) EvalContext(ctx context.Context, feeds ...Feed) (*Tensor, error) {
	fm := make(map[string]*Tensor, len(feeds))
	for _, f := range feeds {
		if _, dup := fm[f.Name]; dup {
			return nil, fmt.Errorf("tfd: tensor %q fed twice", f.Name)
		}
		fm[f.Name] = f.Value
	}
	outs, err := h.r.Run(ctx, fm, h.name)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// ReadNPY reads a NumPy .npy file into a tensor.
func ReadNPY(path string) (*Tensor, error) { return npy.ReadFile(path, npy.Limits{}) }

// WriteNPY writes a tensor as a NumPy .npy file (atomically, via a
// temporary file and a rename).
func WriteNPY(path string, t *Tensor) error { return npy.WriteFile(path, t) }
