package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/score"
)

// runOnce evaluates a signature that takes no inputs (serving_counter's
// get_counter, a reader of an asset file): there are no rows to stream, so
// the model runs once and each output is written to dir as KEY.npy (every
// character outside [A-Za-z0-9._-] of KEY becoming '_'). It returns false,
// doing nothing, when the signature has inputs to feed.
func runOnce(ctx context.Context, m evaluator, signature string, fetchNames []string, format score.Format, dir string, stdout io.Writer) (bool, error) {
	fields, err := score.Fields(m, signature)
	if err != nil {
		return false, err
	}
	for _, f := range fields {
		if !f.Optional {
			return false, nil
		}
	}
	if format != score.NPY {
		return true, usagef("--format %s: model %s takes no inputs, so it runs once and its outputs are written as .npy files", format, m.Name())
	}
	fetches, err := score.Fetches(m, signature, fetchNames)
	if err != nil {
		return true, err
	}
	tensors := make([]string, len(fetches))
	for i, f := range fetches {
		tensors[i] = f.Tensor
	}
	outs, err := m.RunWith(ctx, tfd.RunOptions{}, nil, tensors...)
	if err != nil {
		return true, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return true, err
	}
	var files []string
	for i, f := range fetches {
		path := filepath.Join(dir, runOnceName(f.Key))
		if err := tfd.WriteNPY(path, outs[i]); err != nil {
			return true, fmt.Errorf("output %s: %w", f.Key, err)
		}
		files = append(files, path)
	}
	fmt.Fprintf(stdout, "ran model %s once (it takes no inputs); wrote %s\n", m.Name(), strings.Join(files, ", "))
	return true, nil
}

// runOnceName is the .npy file name of an output key, as score names them.
func runOnceName(key string) string {
	b := []byte(key)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b) + ".npy"
}
