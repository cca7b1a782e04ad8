package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tfdgo/tfd"
)

// Servable is one loaded model version as the server uses it. *tfd.Model
// implements it; tests and embedders may supply their own through
// Options.Loader.
type Servable interface {
	// Signatures returns the entry points by key.
	Signatures() map[string]*tfd.Signature
	// RunSignature evaluates a signature; feeds and results are keyed by
	// the signature's input and output keys.
	RunSignature(ctx context.Context, key string, opt tfd.RunOptions, feeds map[string]*tfd.Tensor, outputs ...string) (map[string]*tfd.Tensor, error)
}

// Loader loads the model at path (a version directory or a model file)
// under the given name.
type Loader func(path, name string) (Servable, error)

// TFDLoader returns the default loader: tfd.Load with the given number of
// workers per run (0: tfd's default) and any further load options (limits,
// fusion), wrapped so that feeds whose shapes the graph's placeholders
// reject still run, as they do in TensorFlow.
func TFDLoader(workers int, opts ...tfd.Option) Loader {
	return func(path, name string) (Servable, error) {
		all := append([]tfd.Option{tfd.WithName(name), tfd.WithWorkers(workers)}, opts...)
		m, err := tfd.Load(modelPath(path), all...)
		if err != nil {
			return nil, err
		}
		return NewModelServable(m), nil
	}
}

// modelPath returns what to hand tfd.Load for a version directory: the
// directory itself when it holds a SavedModel or TF.js model (or anything
// but a single graph file), or its only .pb/.pbtxt file.
func modelPath(path string) string {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return path
	}
	for _, f := range []string{"saved_model.pb", "saved_model.pbtxt", "model.json"} {
		if _, err := os.Stat(filepath.Join(path, f)); err == nil {
			return path
		}
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return path
	}
	var graphs []string
	for _, e := range ents {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".pb") || strings.HasSuffix(e.Name(), ".pbtxt")) {
			graphs = append(graphs, e.Name())
		}
	}
	if len(graphs) == 1 {
		return filepath.Join(path, graphs[0])
	}
	return path
}

// ModelServable adapts a *tfd.Model to Servable. Feeds that match their
// signature's declared shapes run on the model; others run on a copy with
// relaxed placeholder shapes (tfd.Model.WithInputShapesRelaxed), made on
// first need.
type ModelServable struct {
	m *tfd.Model

	once       sync.Once
	relaxed    *tfd.Model
	relaxedErr error
}

// NewModelServable wraps m.
func NewModelServable(m *tfd.Model) *ModelServable { return &ModelServable{m: m} }

// Model returns the wrapped model.
func (s *ModelServable) Model() *tfd.Model { return s.m }

// Signatures returns the model's signatures.
func (s *ModelServable) Signatures() map[string]*tfd.Signature { return s.m.Signatures() }

// RunSignature runs the signature on the model, or on the relaxed copy
// when a feed's shape does not fit the declared one.
func (s *ModelServable) RunSignature(ctx context.Context, key string, opt tfd.RunOptions, feeds map[string]*tfd.Tensor, outputs ...string) (map[string]*tfd.Tensor, error) {
	m := s.m
	if sig, err := s.m.Signature(key); err == nil && !feedsMatch(sig, feeds) {
		s.once.Do(func() { s.relaxed, s.relaxedErr = s.m.WithInputShapesRelaxed() })
		if s.relaxedErr != nil {
			return nil, s.relaxedErr
		}
		m = s.relaxed
	}
	return m.RunSignature(ctx, key, opt, feeds, outputs...)
}

func feedsMatch(sig *tfd.Signature, feeds map[string]*tfd.Tensor) bool {
	for k, t := range feeds {
		if in, ok := sig.Inputs[k]; ok && !in.Shape.Matches(t.Shape()) {
			return false
		}
	}
	return true
}
