package testmodels

import (
	"bytes"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/npy"
	"github.com/tfdgo/tfd/tensor"
)

// File is one generated file of testdata/.
type File struct {
	Name string
	Data []byte
}

// Files returns the contents of every generated testdata file.
func Files() ([]File, error) {
	var out []File
	addGraph := func(name string, g *graph.Graph, text bool) error {
		var data []byte
		var err error
		if text {
			data, err = graph.EncodeText(g)
		} else {
			data, err = graph.Encode(g)
		}
		if err != nil {
			return err
		}
		out = append(out, File{name, data})
		return nil
	}
	addNPY := func(name string, t *tensor.Tensor) error {
		var buf bytes.Buffer
		if err := npy.Write(&buf, t); err != nil {
			return err
		}
		out = append(out, File{name, buf.Bytes()})
		return nil
	}
	mlp, _ := MLP(SeedMLP)
	cnn, _ := CNN(SeedCNN)
	towers, _ := Towers(SeedTowers)
	custom, _ := Custom(SeedCustom)
	steps := []func() error{
		func() error { return addGraph("mlp.pb", mlp, false) },
		func() error { return addNPY("mlp_input.npy", Input(SeedMLPIn, MLPRows, MLPIn)) },
		func() error { return addGraph("cnn.pb", cnn, false) },
		func() error { return addNPY("cnn_input.npy", Input(SeedCNNIn, CNNRows, CNNSize, CNNSize, 1)) },
		func() error { return addGraph("towers.pbtxt", towers, true) },
		func() error { return addNPY("towers_input.npy", Input(SeedTowersIn, TowersRows, 16)) },
		func() error { return addGraph("custom.pbtxt", custom, true) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	state, err := stateFiles()
	if err != nil {
		return nil, err
	}
	return append(out, state...), nil
}
