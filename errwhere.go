package tfd

import (
	"errors"
	"fmt"

	"github.com/tfdgo/tfd/sched"
)

// Errors of a model start with where they happened, one convention for
// every format and layer:
//
//	tfd: <where>: node "dense/MatMul" (MatMul): <what was expected, what was found>
//
// where <where> is the path the model was loaded from, or `model "name"`
// when it was named with WithName or built from a graph without a source
// file. Loaders use the same shape: "graph: <path>: node ...", "score:
// <input file>: input ...", "bundle: <shard>: key ...".

// where names the model in errors: its path, unless the caller named it.
func (m *Model) where() string {
	if m.path != "" && m.name == defaultName(m.path) {
		return m.path
	}
	return fmt.Sprintf("model %q", m.name)
}

// wrap prefixes err with the package and where the model is. A
// sched.NodeError at the top of err is copied without its model name,
// which where replaces.
func (m *Model) wrap(err error) error {
	var ne *sched.NodeError
	if errors.As(err, &ne) && error(ne) == err && ne.Model != "" {
		c := *ne
		c.Model = ""
		err = &c
	}
	return fmt.Errorf("tfd: %s: %w", m.where(), err)
}
