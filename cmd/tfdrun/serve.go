package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/serve"
)

// cmdServe is `tfdrun serve`: TF Serving's REST API over the given
// models. Flags take TF Serving's names where it has one (their
// tensorflow_model_server spellings are accepted as aliases). Models load
// before the port opens; SIGTERM or SIGINT drains in-flight requests, then
// the command returns.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSetT("serve", stderr)
	var (
		models, labels, ensembles                           listFlag
		config, batchFile, host, allowed, logFormat, logLvl string
		modelName, modelBase                                string
		port, workers, maxBatch, maxEnqueued, threads       int
		timeoutUS, restTimeoutMS, pollSecs, profileRuns     int
		maxBody                                             int64
		maxRun                                              memByteFlag
		batching, padVar, pprofOn, cors                     bool
		drain                                               time.Duration
	)
	fs.Var(&ensembles, "ensemble", "NAME=METHOD:PATH,PATH...: serve an ensemble (METHOD mean, max or min) of the models at the PATHs as NAME, versioned like the first PATH (repeatable)")
	fs.Var(&models, "model", "NAME=PATH: serve the model at PATH (a base directory of numbered versions, or a model file or directory) as NAME (repeatable)")
	fs.StringVar(&config, "config", "", "TF Serving model config file (text ModelServerConfig with a model_config_list)")
	fs.StringVar(&config, "model_config_file", "", "alias of --config")
	fs.StringVar(&modelName, "model_name", "", "with --model_base_path: one model, as tensorflow_model_server takes it")
	fs.StringVar(&modelBase, "model_base_path", "", "with --model_name: the model's base path")
	fs.Var(&labels, "label", "NAME:LABEL=VERSION: a version label for model NAME (repeatable)")
	fs.StringVar(&host, "host", "", "address to listen on (default: all interfaces)")
	fs.IntVar(&port, "port", 8501, "REST API port (0: any free port)")
	fs.IntVar(&port, "rest_api_port", 8501, "alias of --port")
	fs.IntVar(&workers, "workers", 0, "goroutines per model run (0: the number of CPUs)")
	fs.Var(&maxRun, "max-run-bytes", "bound on the bytes one run's tensors hold at once, e.g. 512MiB (default 4GiB; -1: none); a request over it gets 400")
	fs.BoolVar(&batching, "batching", false, "merge concurrent requests into batches")
	fs.BoolVar(&batching, "enable_batching", false, "alias of --batching")
	fs.StringVar(&batchFile, "batching_parameters_file", "", "TF Serving batching parameters file (text BatchingParameters); implies --batching")
	fs.IntVar(&maxBatch, "max_batch_size", 0, "batching: rows per batch (default 1000)")
	fs.IntVar(&timeoutUS, "batch_timeout_micros", -1, "batching: longest wait for a batch to fill, µs (default 0)")
	fs.IntVar(&maxEnqueued, "max_enqueued_batches", 0, "batching: batches a queue holds before refusing requests with 503 (default 10)")
	fs.IntVar(&threads, "num_batch_threads", 0, "batching: batches run at once (default: the number of CPUs)")
	fs.StringVar(&allowed, "allowed_batch_sizes", "", "batching: comma-separated batch sizes to pad batches up to; the last must equal max_batch_size")
	fs.BoolVar(&padVar, "pad_variable_length_inputs", false, "batching: pad inputs along the non-batch axes to batch requests of different shapes")
	fs.IntVar(&restTimeoutMS, "rest_api_timeout_in_ms", 30000, "deadline of one request, queueing included (0: none)")
	fs.Int64Var(&maxBody, "max_body_bytes", 64<<20, "largest request body accepted (larger: 413)")
	fs.DurationVar(&drain, "drain_timeout", 30*time.Second, "on SIGTERM, how long to wait for requests in flight")
	fs.IntVar(&pollSecs, "file_system_poll_wait_seconds", 0, "rescan the models' base paths for new versions this often (0: never)")
	fs.BoolVar(&pprofOn, "pprof", false, "serve net/http/pprof under /debug/pprof/")
	fs.IntVar(&profileRuns, "profile_runs", 0, "keep the per-op profiles of the last N runs at "+serve.ProfilePath)
	fs.BoolVar(&cors, "enable_cors_support", false, "add CORS headers to REST responses")
	fs.StringVar(&logFormat, "log_format", "text", "request log format: text or json")
	fs.StringVar(&logLvl, "log_level", "info", "log level: debug, info, warn or error")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no positional arguments, got %q", pos)
	}

	var cfgs []serve.ModelConfig
	if config != "" {
		text, err := os.ReadFile(config)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		if cfgs, err = serve.ParseModelConfig(text); err != nil {
			return fmt.Errorf("%s: %w", config, err)
		}
	}
	if (modelName == "") != (modelBase == "") {
		return usagef("--model_name and --model_base_path go together")
	}
	if modelName != "" {
		models = append(models, modelName+"="+modelBase)
	}
	for _, m := range models {
		name, path, ok := strings.Cut(m, "=")
		if !ok || name == "" || path == "" {
			return usagef("--model expects NAME=PATH, got %q", m)
		}
		cfgs = append(cfgs, serve.ModelConfig{Name: name, BasePath: path})
	}
	members := map[string][]string{}
	combiners := map[string]tfd.Combiner{}
	for _, e := range ensembles {
		name, rest, ok1 := strings.Cut(e, "=")
		method, paths, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || name == "" || paths == "" {
			return usagef("--ensemble expects NAME=METHOD:PATH,PATH..., got %q", e)
		}
		comb, err := tfd.ParseCombiner(method)
		if err != nil {
			return usagef("--ensemble %q: %v", e, err)
		}
		members[name] = strings.Split(paths, ",")
		combiners[name] = comb
		cfgs = append(cfgs, serve.ModelConfig{Name: name, BasePath: members[name][0]})
	}
	if len(cfgs) == 0 {
		return usagef("expected models: --model NAME=PATH or --config FILE")
	}
	for _, l := range labels {
		name, rest, ok1 := strings.Cut(l, ":")
		label, ver, ok2 := strings.Cut(rest, "=")
		v, err := strconv.ParseInt(ver, 10, 64)
		if !ok1 || !ok2 || err != nil {
			return usagef("--label expects NAME:LABEL=VERSION, got %q", l)
		}
		found := false
		for i := range cfgs {
			if cfgs[i].Name == name {
				if cfgs[i].Labels == nil {
					cfgs[i].Labels = map[string]int64{}
				}
				cfgs[i].Labels[label], found = v, true
			}
		}
		if !found {
			return usagef("--label %q names no configured model", l)
		}
	}
	if workers < 0 {
		return usagef("--workers must not be negative, got %d", workers)
	}

	logger, err := serveLogger(stderr, logFormat, logLvl)
	if err != nil {
		return err
	}
	opts := serve.Options{
		Models: cfgs, Workers: workers, MaxBodyBytes: maxBody, DrainTimeout: drain,
		PollInterval: time.Duration(pollSecs) * time.Second, EnablePprof: pprofOn, ProfileRuns: profileRuns,
		EnableCORS: cors, Logger: logger, RequestTimeout: time.Duration(restTimeoutMS) * time.Millisecond,
	}
	if restTimeoutMS <= 0 {
		opts.RequestTimeout = -1
	}
	var loadOpts []tfd.Option
	if maxRun != 0 {
		loadOpts = append(loadOpts, tfd.Options{Limits: tfd.Limits{MaxRunBytes: int64(maxRun)}})
	}
	opts.Loader = serve.TFDLoader(workers, loadOpts...)
	if len(members) > 0 {
		plain := opts.Loader
		opts.Loader = func(path, name string) (serve.Servable, error) {
			paths, ok := members[name]
			if !ok {
				return plain(path, name)
			}
			var ms []*tfd.Model
			for i, p := range paths {
				all := append([]tfd.Option{tfd.WithName(fmt.Sprintf("%s[%d]", name, i)), tfd.WithWorkers(workers)}, loadOpts...)
				m, err := tfd.Load(p, all...)
				if err != nil {
					return nil, err
				}
				ms = append(ms, m)
			}
			return tfd.NewEnsemble(ms, combiners[name])
		}
	}
	if batchFile != "" || batching || maxBatch > 0 || timeoutUS >= 0 || maxEnqueued > 0 || threads > 0 || allowed != "" || padVar {
		var p serve.BatchingParameters
		if batchFile != "" {
			text, err := os.ReadFile(batchFile)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			if p, err = serve.ParseBatchingParameters(text); err != nil {
				return fmt.Errorf("%s: %w", batchFile, err)
			}
		}
		if maxBatch > 0 {
			p.MaxBatchSize = maxBatch
		}
		if timeoutUS >= 0 {
			p.BatchTimeout = time.Duration(timeoutUS) * time.Microsecond
		}
		if maxEnqueued > 0 {
			p.MaxEnqueuedBatches = maxEnqueued
		}
		if threads > 0 {
			p.NumBatchThreads = threads
		}
		if allowed != "" {
			p.AllowedBatchSizes = nil
			for _, s := range strings.Split(allowed, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					return usagef("--allowed_batch_sizes expects comma-separated integers, got %q", allowed)
				}
				p.AllowedBatchSizes = append(p.AllowedBatchSizes, n)
			}
		}
		p.PadVariableLengthInputs = p.PadVariableLengthInputs || padVar
		if err := p.Validate(); err != nil {
			return err
		}
		opts.Batching = &p
	}

	// Every model loads before the port opens.
	srv, err := serve.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(stderr, "tfdrun: serving %s on http://%s (REST API /v1/models/…, metrics %s)\n",
		strings.Join(srv.ModelNames(), ", "), ln.Addr(), serve.MetricsPath)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	return srv.Serve(ctx, ln)
}

func serveLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log_level expects debug, info, warn or error, got %q", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, usagef("--log_format expects text or json, got %q", format)
}
