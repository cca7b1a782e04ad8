package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// malformed names a file of the malformed-input corpus; the binary ones
// are written by go run ./testdata/malformed/gen.
func malformed(name string) string { return filepath.Join("..", "..", "testdata", "malformed", name) }

// TestMalformedInputs runs tfdrun on every file of the malformed-input
// corpus: each must exit with status 1 and print exactly the one line
// given, which names the file, node or tensor at fault and says what was
// expected and what was found, and never a panic. Errors follow one
// convention (README "Errors"): "tfdrun: <package>: <file>: <where>:
// <what>", where <where> is a node "name" (Op), a variable, a key, a
// weight, an input or a feed, and a layer that reads another file (a
// checkpoint's shard) adds "<package>: <that file>: <where>" in turn.
func TestMalformedInputs(t *testing.T) {
	m := malformed
	x := "x=" + m("x_2x4.npy")
	out := t.TempDir()
	cases := []struct {
		name    string
		args    []string // of tfdrun run
		inspect bool     // tfdrun inspect MODEL fails with the same line
		want    string   // the line on stderr, after "tfdrun: "
	}{
		{
			name: "truncated pb", args: []string{"-m", m("truncated.pb"), "-i", x}, inspect: true,
			want: "graph: " + m("truncated.pb") + ": parsing binary GraphDef: malformed protobuf: proto: cannot parse invalid wire-format data",
		},
		{
			name: "bit-flipped pb", args: []string{"-m", m("bitflipped.pb"), "-i", x}, inspect: true,
			want: "graph: " + m("bitflipped.pb") + ": parsing binary GraphDef: malformed protobuf: proto: cannot parse invalid wire-format data",
		},
		{
			name: "pb with a bit flipped in a tensor's shape", args: []string{"-m", m("bitflip_payload.pb"), "-i", x}, inspect: true,
			want: "graph: " + m("bitflip_payload.pb") + `: node "w" (Const): attr "value": tensor_content holds 16 bytes, expected 5 elements of float32 (4 bytes each)`,
		},
		{
			name: "cycle", args: []string{"-m", m("cycle.pbtxt"), "-i", x, "--fetch", "b"},
			want: "tfd: " + m("cycle.pbtxt") + ": sched: graph has a cycle: b -> a -> b (only a loop's edge from NextIteration into Merge may close a cycle)",
		},
		{
			name: "missing input", args: []string{"-m", m("missing_input.pbtxt"), "-i", x},
			want: "tfd: " + m("missing_input.pbtxt") + `: node "relu" (Relu): input "nowhere": no such node in the graph`,
		},
		{
			name: "unknown op", args: []string{"-m", m("unknown_op.pbtxt"), "-i", x}, inspect: false,
			want: "tfd: " + m("unknown_op.pbtxt") + `: 1 unsupported op type: Frobnicate (1 node, e.g. "frob")`,
		},
		{
			name: "const of 10^15 elements", args: []string{"-m", m("huge_const.pbtxt"), "-i", x}, inspect: true,
			want: "graph: " + m("huge_const.pbtxt") + `: node "big" (Const): attr "value": tensor declares 1000000000000000 elements, more than the limit 2147483648: limit exceeded`,
		},
		{
			name: "negative dimension", args: []string{"-m", m("negative_dim.pbtxt"), "-i", x}, inspect: true,
			want: "graph: " + m("negative_dim.pbtxt") + `: node "neg" (Const): attr "value": tensor shape dimension 1 is -3 (expected a size >= 0)`,
		},
		{
			name: "reshape sizes disagree", args: []string{"-m", m("reshape_mismatch.pbtxt"), "-i", x},
			want: "tfd: " + m("reshape_mismatch.pbtxt") + `: node "reshape" (Reshape): shape mismatch: op Reshape: input has 8 values (shape [2 4]), which the requested shape [-1 3] cannot hold: not a multiple of 3`,
		},
		{
			name: "bundle offset past shard", args: []string{"-m", m("ckpt_offset"), "-i", x, "--fetch", "y"}, inspect: true,
			want: "graph: " + m("ckpt_offset") + `: variable "w": bundle: ` + m("ckpt_offset.data-00000-of-00001") + `: key "w": bytes [64, 80) run past the end of the shard (32 bytes)`,
		},
		{
			name: "bundle crc mismatch", args: []string{"-m", m("ckpt_crc"), "-i", x, "--fetch", "y"}, inspect: true,
			want: "graph: " + m("ckpt_crc") + `: variable "w": bundle: ` + m("ckpt_crc.data-00000-of-00001") + `: key "w": crc32c mismatch (stored 0x7498284c, computed 0xb0c8fd73)`,
		},
		{
			name: "checkpoint index with a bit flipped in a key", args: []string{"-m", m("ckpt_indexflip"), "-i", x, "--fetch", "y"}, inspect: true,
			want: "graph: " + m("ckpt_indexflip") + ": bundle: " + m("ckpt_indexflip.index") + ": index block at offset 79: crc32c mismatch (stored 0x48c460a6, computed 0xb0a40205)",
		},
		{
			name: "truncated checkpoint index", args: []string{"-m", m("ckpt_index_trunc"), "-i", x, "--fetch", "y"}, inspect: true,
			want: "graph: " + m("ckpt_index_trunc") + ": bundle: " + m("ckpt_index_trunc.index") +
				": bad magic number 0x0000000000000000 in its last 8 bytes (expected 0xdb4775248b80fb57): not a TensorBundle index, or a truncated one (126 bytes)",
		},
		{
			name: "TF.js manifest with a bit flipped in a shape", args: []string{"-m", m("tfjs_bitflip"), "-i", x}, inspect: true,
			want: "graph: " + m("tfjs_bitflip/model.json") + `: weight "w" (group 1, from shard "group1-shard1of1.bin"): shape [5] does not match the Const's shape [4]`,
		},
		{
			name: "truncated TF.js weight shard", args: []string{"-m", m("tfjs_truncated"), "-i", x}, inspect: true,
			want: "graph: " + m("tfjs_truncated/model.json") + `: weight "w" (group 1, from shard "group1-shard1of1.bin"): needs 4 elements of 4 bytes from byte 0 of the group, but its shards hold only 10 bytes`,
		},
		{
			name: "SavedModel with a bit flipped in a tensor's shape", args: []string{"-m", m("sm_bitflip"), "-i", x}, inspect: true,
			want: "graph: " + m("sm_bitflip") + `: saved_model.pb: node "w" (Const): attr "value": tensor_content holds 16 bytes, expected 5 elements of float32 (4 bytes each)`,
		},
		{
			name: "SavedModel without variables", args: []string{"-m", m("sm_novars"), "-i", x}, inspect: true,
			want: "graph: " + m("sm_novars") + `: the serving graph reads variable "w" (checkpoint key "w"), but there is no variables/variables.index`,
		},
		{
			name: "truncated npy", args: []string{"-m", m("relu.pbtxt"), "-i", "x=" + m("truncated.npy")},
			want: "score: " + m("truncated.npy") + `: data truncated: shape [2 4] of "<f4" needs 32 bytes, the file holds 27`,
		},
		{
			name: "npy with a bit flipped in its shape", args: []string{"-m", m("relu.pbtxt"), "-i", "x=" + m("bitflip_payload.npy")},
			want: "score: " + m("bitflip_payload.npy") + `: data truncated: shape [3 4] of "<f4" needs 48 bytes, the file holds 32`,
		},
		{
			name: "npy of the wrong dtype", args: []string{"-m", m("relu.pbtxt"), "-i", "x=" + m("bool.npy")},
			want: "score: " + m("bool.npy") + `: input "x": dtype bool cannot be converted to float32 without loss; expected float32`,
		},
		{
			name: "npy of the wrong shape", args: []string{"-m", m("relu.pbtxt"), "-i", "x=" + m("shape_2x5.npy")},
			want: "score: " + m("shape_2x5.npy") + `: feed "x": shape [2 5] does not match the placeholder's shape [? 4]`,
		},
	}
	check := func(t *testing.T, what string, code int, errOut, want string) {
		t.Helper()
		if code != 1 {
			t.Errorf("%s: exit %d, want 1; stderr %q", what, code, errOut)
		}
		if errOut != "tfdrun: "+want+"\n" {
			t.Errorf("%s: stderr\n%q\nwant\n%q", what, errOut, "tfdrun: "+want+"\n")
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"run"}, c.args...)
			args = append(args, "-o", filepath.Join(out, strings.ReplaceAll(c.name, " ", "_")))
			code, _, errOut := run(t, args...)
			check(t, "run", code, errOut, c.want)
			if c.inspect {
				code, _, errOut := run(t, "inspect", c.args[1])
				check(t, "inspect", code, errOut, c.want)
			}
		})
	}

	// The corpus stays small, and every file in it is used above.
	used := map[string]bool{"relu.pbtxt": true, "x_2x4.npy": true}
	for _, c := range cases {
		for _, a := range c.args {
			a = strings.TrimPrefix(a, "x=")
			if filepath.Dir(a) == filepath.Dir(m("x")) {
				used[filepath.Base(a)] = true
			}
		}
	}
	root := filepath.Dir(m("x"))
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "gen" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > 4<<10 {
			t.Errorf("%s: %d bytes; keep corpus files under 4 KiB", rel, info.Size())
		}
		top, _, _ := strings.Cut(rel, string(filepath.Separator))
		base, _, _ := strings.Cut(top, ".")
		if !used[top] && !used[base] {
			t.Errorf("%s is not used by any case", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
