// Command serve load-tests the REST server: it starts `tfdrun serve`'s
// server in process on a loopback port (or targets one given with -addr),
// drives it with concurrent keep-alive HTTP clients for a bounded time at
// each concurrency, with batching off and on, and prints requests/s,
// p50/p99 latency and the error count as a Markdown table.
//
//	go run ./bench/serve                       # the README MLP, 10 s per point
//	go run ./bench/serve -duration 30s -clients 1,8,64
//
// Each request is one row of testdata/mlp_input.npy in row format
// ({"instances": [[784 floats]]}); responses are checked for status 200
// and 100 probabilities.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/serve"
)

func main() {
	cfg := config{}
	flag.StringVar(&cfg.model, "model", "testdata/mlp.pb", "model to serve")
	wide := flag.String("wide", "", "serve a generated heavier MLP instead, WIDTHxLAYERS (e.g. 1024x2: two 1024-unit Relu layers), same input and output as the README MLP")
	flag.StringVar(&cfg.input, "input", "testdata/mlp_input.npy", "rows to send (.npy, [n, features])")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "load time per point")
	flag.StringVar(&cfg.clients, "clients", "1,8,64", "comma-separated client counts")
	flag.StringVar(&cfg.modes, "modes", "off,on", "batching modes to run: off, on")
	flag.StringVar(&cfg.addr, "addr", "", "target a running server (host:port, model name mlp) instead of starting one")
	flag.IntVar(&cfg.workers, "workers", 1, "goroutines per model run")
	flag.IntVar(&batchThreads, "num_batch_threads", batchThreads, "batching on: batches run at once")
	flag.IntVar(&cfg.repeat, "repeat", 1, "runs per point (modes alternating); the median is reported")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	tracefile := flag.String("trace", "", "write a runtime trace of the whole run to this file")
	flag.Parse()
	if *tracefile != "" {
		f, err := os.Create(*tracefile)
		if err == nil {
			err = trace.Start(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/serve:", err)
			os.Exit(1)
		}
		defer trace.Stop()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/serve:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *wide != "" {
		var width, layers int
		if _, err := fmt.Sscanf(*wide, "%dx%d", &width, &layers); err != nil || width < 1 || layers < 0 {
			fmt.Fprintln(os.Stderr, "bench/serve: -wide expects WIDTHxLAYERS, e.g. 1024x2")
			os.Exit(2)
		}
		data, err := graph.Encode(testmodels.WideMLP(7, width, layers))
		if err == nil {
			cfg.model = filepath.Join(os.TempDir(), fmt.Sprintf("tfd-wide-mlp-%dx%d.pb", width, layers))
			err = os.WriteFile(cfg.model, data, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/serve:", err)
			os.Exit(1)
		}
		defer os.Remove(cfg.model)
	}
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/serve:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type config struct {
	model, input, clients, modes, addr string
	duration                           time.Duration
	workers, repeat                    int
}

// result is one load point.
type result struct {
	mode             string
	clients          int
	requests, errors int
	elapsed          time.Duration
	p50, p99         time.Duration
	// batches and batchRows count the batched runs during the point and
	// their rows (from the server's tfd_serving_batch_size histogram);
	// zero when batching is off.
	batches, batchRows float64
}

// batching returns the batching parameters of the "on" mode: TF Serving's
// CPU recipe (serving_config.md) — no batch timeout, a queue deep enough
// that no client is refused — except for the batch threads: half the
// cores rather than all of them. Here the HTTP handlers decode JSON on the
// same cores as the runs; with a batch thread per core the runs take every
// core, requests reach the queue one at a time, and batches average ~1.2
// rows (measured, bench/README.md). With half the cores left to decoding,
// requests pile up while a batch runs.
var batchThreads = max(1, runtime.GOMAXPROCS(0)/2)

func batching() *serve.BatchingParameters {
	return &serve.BatchingParameters{MaxBatchSize: 64, BatchTimeout: 0, NumBatchThreads: batchThreads, MaxEnqueuedBatches: 128}
}

func run(cfg config, out io.Writer) error {
	in, err := tfd.ReadNPY(cfg.input)
	if err != nil {
		return err
	}
	bodies, err := rowBodies(in)
	if err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(cfg.clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-clients: bad count %q", s)
		}
		counts = append(counts, n)
	}
	// Both servers run side by side and the modes alternate at each point
	// (repeated -repeat times, the median kept), so that a change in the
	// machine's load does not favour one mode.
	modes := strings.Split(cfg.modes, ",")
	addrs := map[string]string{}
	for _, mode := range modes {
		if cfg.addr != "" {
			addrs[mode] = cfg.addr
			continue
		}
		opts := serve.Options{Models: []serve.ModelConfig{{Name: "mlp", BasePath: cfg.model}}, Workers: cfg.workers}
		switch mode {
		case "on":
			opts.Batching = batching()
		case "off":
		default:
			return fmt.Errorf("-modes: unknown mode %q", mode)
		}
		addr, stop, err := start(opts)
		if err != nil {
			return err
		}
		defer stop()
		addrs[mode] = addr
	}
	var results []result
	for _, n := range counts {
		runs := map[string][]result{}
		for range max(cfg.repeat, 1) {
			for _, mode := range modes {
				rows0, count0, err := batchStats(addrs[mode])
				if err != nil {
					return err
				}
				r, err := load("http://"+addrs[mode]+"/v1/models/mlp:predict", bodies, n, cfg.duration)
				if err != nil {
					return err
				}
				rows1, count1, err := batchStats(addrs[mode])
				if err != nil {
					return err
				}
				r.batchRows, r.batches = rows1-rows0, count1-count0
				r.mode = mode
				runs[mode] = append(runs[mode], r)
			}
		}
		for _, mode := range modes {
			rs := runs[mode]
			slices.SortFunc(rs, func(a, b result) int {
				return cmpRate(a) - cmpRate(b)
			})
			r := rs[len(rs)/2]
			for _, x := range rs {
				r.errors = max(r.errors, x.errors)
			}
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "batching %s, %d clients: %.0f req/s, p50 %v, p99 %v, %d errors, mean batch %s\n",
				mode, n, rate(r), r.p50, r.p99, r.errors, meanBatch(r))
		}
	}
	fmt.Fprintf(out, "| batching | clients | requests | errors | req/s | p50 | p99 | mean batch |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(out, "| %s | %d | %d | %d | %.0f | %s | %s | %s |\n", r.mode, r.clients, r.requests, r.errors,
			rate(r), fmtDur(r.p50), fmtDur(r.p99), meanBatch(r))
	}
	for _, r := range results {
		if r.errors > 0 {
			return fmt.Errorf("%d errors with batching %s and %d clients", r.errors, r.mode, r.clients)
		}
	}
	return nil
}

// meanBatch formats the mean rows per batched run of a point ("–" when
// nothing was batched).
func meanBatch(r result) string {
	if r.batches == 0 {
		return "–"
	}
	return strconv.FormatFloat(r.batchRows/r.batches, 'f', 1, 64)
}

// batchStats reads the sum and count of the server's batch-size histogram,
// summed over its series, from its Prometheus endpoint.
func batchStats(addr string) (rows, count float64, err error) {
	resp, err := http.Get("http://" + addr + "/monitoring/prometheus/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "{")
		var dst *float64
		switch name {
		case "tfd_serving_batch_size_sum":
			dst = &rows
		case "tfd_serving_batch_size_count":
			dst = &count
		default:
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("metrics: %q: %v", line, err)
		}
		*dst += v
	}
	return rows, count, nil
}

func rate(r result) float64 { return float64(r.requests) / r.elapsed.Seconds() }

func cmpRate(r result) int { return int(rate(r)) }

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// rowBodies makes one request body per row of in.
func rowBodies(in *tfd.Tensor) ([][]byte, error) {
	if in.Rank() != 2 {
		return nil, fmt.Errorf("input must be [rows, features], got %v", in.Shape())
	}
	rows, cols := in.Shape()[0], in.Shape()[1]
	vals := in.Float64s()
	bodies := make([][]byte, rows)
	for r := range rows {
		var b bytes.Buffer
		b.WriteString(`{"instances": [[`)
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatFloat(vals[r*cols+c], 'g', -1, 32))
		}
		b.WriteString("]]}")
		bodies[r] = b.Bytes()
	}
	return bodies, nil
}

// start runs a server on a loopback port; stop drains it.
func start(opts serve.Options) (string, func() error, error) {
	s, err := serve.New(opts)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return ln.Addr().String(), func() error {
		cancel()
		return <-done
	}, nil
}

// load drives url with n clients for d and returns the counts and
// latency percentiles.
func load(url string, bodies [][]byte, n int, d time.Duration) (result, error) {
	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	lat := make([][]time.Duration, n)
	errs := make([]int, n)
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(deadline); i += n {
				t0 := time.Now()
				err := post(client, url, bodies[i%len(bodies)])
				lat[c] = append(lat[c], time.Since(t0))
				if err != nil {
					errs[c]++
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	r := result{clients: n, elapsed: time.Since(start)}
	var all []time.Duration
	for c := range n {
		all = append(all, lat[c]...)
		r.errors += errs[c]
	}
	r.requests = len(all)
	if len(all) == 0 {
		return r, errors.New("no request completed")
	}
	slices.Sort(all)
	r.p50, r.p99 = all[len(all)/2], all[min(len(all)-1, len(all)*99/100)]
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "first error:", firstErr)
	}
	return r, nil
}

func post(client *http.Client, url string, body []byte) error {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	// A cheap check, to leave the CPU to the server: one row of 100
	// values.
	if !bytes.HasPrefix(b, []byte("{\n    \"predictions\": [[")) || bytes.Count(b, []byte(",")) != 99 {
		return fmt.Errorf("unexpected response: %.100s", b)
	}
	return nil
}
