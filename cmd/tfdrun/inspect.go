package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/tfdgo/tfd"
)

func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSetT("inspect", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	stage := fs.String("stage", "graph", "what to show: graph (the file as written) or plan (compiled: pruned, folded, kernels chosen)")
	impls := fs.Bool("impls", false, "list the kernel implementation each op type will use, and the alternatives")
	var implFlags listFlag
	fs.Var(&implFlags, "impl", "OP=IMPL: as for run, to see its effect with --impls")
	prefer := fs.String("prefer", "", "as for run, to see its effect with --impls")
	noFusion := fs.Bool("no-fusion", false, "with --stage plan: compile without fusing nodes")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("inspect expects one MODEL argument")
	}
	if *impls {
		mf := modelFlags{impls: implFlags, prefer: *prefer, workers: 1}
		opts, err := mf.options()
		if err != nil {
			return err
		}
		return inspectImpls(pos[0], opts, *asJSON, stdout)
	}
	switch *stage {
	case "graph":
	case "plan":
		var opts []tfd.Option
		if *noFusion {
			opts = append(opts, tfd.WithoutFusion())
		}
		return inspectPlan(pos[0], opts, *asJSON, stdout)
	default:
		return usagef("--stage must be graph or plan, got %q", *stage)
	}
	info, err := tfd.Inspect(pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	w := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(w, "model:\t%s\n", info.Path)
	ver := ""
	if info.TFVersion != "" {
		ver = ", TensorFlow " + info.TFVersion
	}
	fmt.Fprintf(w, "format:\t%s, producer %d%s\n", info.Format, info.Producer, ver)
	if len(info.MetaGraphs) > 0 {
		fmt.Fprintf(w, "tags:\t%v (MetaGraphs in the file: %v)\n", info.Tags, info.MetaGraphs)
	}
	fmt.Fprintf(w, "nodes:\t%d (%d functions)\n", info.Nodes, info.Functions)
	fmt.Fprintf(w, "constants:\t%d, %s\n", info.Consts, byteSize(info.ConstBytes))
	if len(info.Variables) > 0 {
		live := 0
		for _, v := range info.Variables {
			if v.Live {
				live++
			}
		}
		how := "frozen into constants"
		if live > 0 {
			how = fmt.Sprintf("%d frozen into constants, %d kept as variables that runs change", len(info.Variables)-live, live)
		}
		fmt.Fprintf(w, "variables:\t%d, %s (%s)\n", len(info.Variables), byteSize(info.VariableBytes), how)
		for i, v := range info.Variables {
			if i == 5 {
				fmt.Fprintf(w, "  …\t%d more\n", len(info.Variables)-i)
				break
			}
			mark := ""
			if v.Live {
				mark = "\tvariable"
			}
			fmt.Fprintf(w, "  %s\t%s\t%v\t%s%s\n", v.Key, v.DType, v.Shape, byteSize(v.Bytes), mark)
		}
	}
	if len(info.Signatures) > 0 {
		fmt.Fprintln(w, "signatures:")
		keys := make([]string, 0, len(info.Signatures))
		for k := range info.Signatures {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sig := info.Signatures[k]
			fmt.Fprintf(w, "  %s\t%s\n", k, sig.Method)
			for _, in := range sig.InputKeys() {
				ti := sig.Inputs[in]
				fmt.Fprintf(w, "    input  %s\t%s\t%s\t%v\n", in, ti.Name, ti.DType, ti.Shape)
			}
			for _, out := range sig.OutputKeys() {
				ti := sig.Outputs[out]
				fmt.Fprintf(w, "    output %s\t%s\t%s\t%v\n", out, ti.Name, ti.DType, ti.Shape)
			}
		}
	} else {
		fmt.Fprintln(w, "inputs:")
		for _, in := range info.Inputs {
			fmt.Fprintf(w, "  %s\t%s\t%v\n", in.Name, in.DType, in.Shape)
		}
		fmt.Fprintln(w, "outputs:")
		for _, o := range info.Outputs {
			fmt.Fprintf(w, "  %s\t%s\t%v\n", o.Name, o.DType, o.Shape)
		}
	}
	if len(info.Unsupported) > 0 {
		fmt.Fprintf(w, "unsupported ops:\t%v\n", info.Unsupported)
	}
	counts, title := info.OpCounts, "ops:"
	if info.ServingOpCounts != nil {
		counts, title = info.ServingOpCounts, "ops on the serving path (all signatures):"
	}
	fmt.Fprintln(w, title)
	type kv struct {
		op string
		n  int
	}
	var hist []kv
	for op, n := range counts {
		hist = append(hist, kv{op, n})
	}
	sort.Slice(hist, func(i, j int) bool {
		if hist[i].n != hist[j].n {
			return hist[i].n > hist[j].n
		}
		return hist[i].op < hist[j].op
	})
	for _, h := range hist {
		fmt.Fprintf(w, "  %s\t%d\n", h.op, h.n)
	}
	return w.Flush()
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// inspectPlan compiles the model for its inputs and outputs and prints the
// plan's nodes in execution order with the kernel implementation of each,
// and for a fused node the graph nodes it replaces.
func inspectPlan(path string, opts []tfd.Option, asJSON bool, stdout io.Writer) error {
	m, err := tfd.Load(path, opts...)
	if err != nil {
		return err
	}
	var feeds []string
	for _, in := range m.Inputs() {
		feeds = append(feeds, in.Name)
	}
	sort.Strings(feeds)
	p, err := m.Plan(feeds, m.Outputs())
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"feeds": feeds, "fetches": p.Fetches(), "nodes": p.Nodes(),
			"folded": p.NumFolded(), "sliceable": p.Sliceable(), "width": p.Width(),
		})
	}
	fmt.Fprintf(stdout, "plan: %d nodes (%d folded into constants), width %d, batch-sliceable %v\n",
		p.NumNodes(), p.NumFolded(), p.Width(), p.Sliceable())
	w := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "#\tnode\top\timpl\tinputs\tfused")
	for i, n := range p.Nodes() {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", i, n.Name, n.Op, n.Impl, strings.Join(n.Inputs, ", "), strings.Join(n.Fused, " → "))
	}
	return w.Flush()
}

// inspectImpls prints which kernel implementation each op type uses.
func inspectImpls(path string, opts []tfd.Option, asJSON bool, stdout io.Writer) error {
	m, err := tfd.Load(path, opts...)
	if err != nil {
		return err
	}
	ks := m.Kernels()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ks)
	}
	w := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "op\tnodes\timpl\tavailable")
	for _, k := range ks {
		impl := k.Impl
		if k.Err != "" {
			impl = "error: " + k.Err
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", k.Op, k.Nodes, impl, strings.Join(k.Available, ", "))
	}
	return w.Flush()
}
