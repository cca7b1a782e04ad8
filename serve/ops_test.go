package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// srvServe runs s.Serve on a loopback listener and returns its base URL,
// a cancel func (the SIGTERM) and a channel with Serve's result.
func srvServe(t *testing.T, s *Server) (string, context.CancelFunc, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), cancel, done
}

func TestDrainAnswersEveryAcceptedRequest(t *testing.T) {
	for _, batching := range []bool{false, true} {
		t.Run(fmt.Sprint("batching=", batching), func(t *testing.T) {
			c := &srvCounting{Servable: srvHalfPlusTwo(t), gate: make(chan struct{})}
			opts := Options{
				Models: []ModelConfig{{Name: "half", BasePath: srvVersionDirs(t, 1)}},
				Loader: srvLoader(func(string) (Servable, error) { return c, nil }),
			}
			if batching {
				// A long timeout: the drain must not wait it out.
				opts.Batching = &BatchingParameters{MaxBatchSize: 100, BatchTimeout: time.Minute, NumBatchThreads: 1}
				c.gate = nil
			}
			s, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			url, sigterm, done := srvServe(t, s)
			const n = 8
			var wg sync.WaitGroup
			codes := make([]int, n)
			bodies := make([]string, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i], bodies[i] = srvDo(t, "POST", url+"/v1/models/half:predict", fmt.Sprintf(`{"instances": [%d.0]}`, i))
				}()
			}
			// Wait until every request is accepted: running (and held in
			// the gate), or waiting in the batch queue.
			srvWaitFor(t, func() bool {
				if batching {
					s.sched.mu.Lock()
					defer s.sched.mu.Unlock()
					rows := 0
					for _, q := range s.sched.queues {
						for _, b := range q.batches {
							rows += b.rows
						}
					}
					return rows == n
				}
				return len(c.runRows()) == n
			})
			start := time.Now()
			sigterm()
			if !batching {
				select {
				case err := <-done:
					t.Fatalf("Serve returned before the requests in flight were answered: %v", err)
				case <-time.After(100 * time.Millisecond):
				}
				close(c.gate)
			}
			wg.Wait()
			if err := <-done; err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Fatalf("draining took %v", d)
			}
			for i := range n {
				if codes[i] != http.StatusOK {
					t.Fatalf("request %d: status %d: %s", i, codes[i], bodies[i])
				}
				srvJSONEqual(t, bodies[i], fmt.Sprintf(`{"predictions": [%v]}`, 0.5*float64(i)+2))
			}
			if _, err := http.Post(url+"/v1/models/half:predict", "application/json", strings.NewReader(`{"instances": [1.0]}`)); err == nil {
				t.Fatal("a request after the drain was answered")
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	_, url, _ := srvBatched(t, BatchingParameters{MaxBatchSize: 8, NumBatchThreads: 1})
	for range 3 {
		srvDo(t, "POST", url+"/v1/models/half:predict", `{"instances": [1.0, 2.0]}`)
	}
	srvDo(t, "POST", url+"/v1/models/half:predict", `{"instances": ["x"]}`)
	code, out := srvDo(t, "GET", url+MetricsPath, "")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`tfd_serving_requests_total{api="predict",code="OK",model="half",signature="serving_default",version="1"} 3`,
		`tfd_serving_requests_total{api="predict",code="INVALID_ARGUMENT",model="half",signature="serving_default",version="1"} 1`,
		`tfd_serving_request_duration_seconds_count{api="predict",model="half",signature="serving_default",version="1"} 4`,
		`tfd_serving_batch_size_sum{model="half",signature="serving_default",version="1"} 6`,
		`tfd_serving_batch_queue_rows{model="half",signature="serving_default",version="1"} 0`,
		`tfd_serving_inflight_runs{model="half",version="1"} 0`,
		`tfd_serving_model_version_available{model="half",version="1"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestRequestLogAndProfiles(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	_, url := srvHalf(t, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&srvLockedWriter{w: &logs, mu: &mu}, nil))
		o.ProfileRuns = 2
		o.EnablePprof = true
		o.EnableCORS = true
	})
	resp, err := http.Post(url+"/v1/models/half/versions/123:predict", "application/json", strings.NewReader(`{"instances": [1.0]}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("CORS header = %q", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	mu.Lock()
	line := logs.String()
	mu.Unlock()
	for _, want := range []string{`"msg":"request"`, `"method":"POST"`, `"status":200`, `"model":"half"`, `"version":123`, `"api":"predict"`, `"signature":"serving_default"`, `"rows":1`} {
		if !strings.Contains(line, want) {
			t.Errorf("request log %s lacks %s", line, want)
		}
	}

	code, out := srvDo(t, "GET", url+ProfilePath, "")
	if code != http.StatusOK {
		t.Fatalf("profile: status %d: %s", code, out)
	}
	p, err := profile.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("profile does not parse: %v", err)
	}
	if len(p.Sample) == 0 {
		t.Fatal("profile has no samples")
	}
	// half_plus_two's Mul and Add run as one fused element-wise node.
	code, out = srvDo(t, "GET", url+ProfilePath+"?debug=1", "")
	if code != http.StatusOK || !strings.Contains(out, "runs: 1") || !strings.Contains(out, "_TfdFusedElementwise") {
		t.Fatalf("profile table: status %d: %s", code, out)
	}
	if code, _ := srvDo(t, "GET", url+"/debug/pprof/", ""); code != http.StatusOK {
		t.Fatalf("pprof index: status %d", code)
	}

	// CORS preflight, as TF Serving answers it.
	req, _ := http.NewRequest("OPTIONS", url+"/v1/models/half:predict", nil)
	req.Header.Set("Origin", "https://example.com")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Methods") != "POST, GET" {
		t.Fatalf("preflight: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if code, _ := srvDo(t, "OPTIONS", url+"/v1/models/half:predict", ""); code != http.StatusBadRequest {
		t.Fatalf("preflight without Origin: status %d, want 400", code)
	}
}

type srvLockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *srvLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestRequestTimeout(t *testing.T) {
	c := &srvCounting{Servable: srvHalfPlusTwo(t), gate: make(chan struct{})}
	defer close(c.gate)
	_, url := srvNew(t, Options{
		Models:         []ModelConfig{{Name: "half", BasePath: srvVersionDirs(t, 1)}},
		Loader:         srvLoader(func(string) (Servable, error) { return c, nil }),
		Batching:       &BatchingParameters{MaxBatchSize: 4, BatchTimeout: time.Minute, NumBatchThreads: 1},
		RequestTimeout: 50 * time.Millisecond,
	})
	code, out := srvDo(t, "POST", url+"/v1/models/half:predict", `{"instances": [1.0]}`)
	if code != http.StatusGatewayTimeout || !strings.Contains(out, "timed out") {
		t.Fatalf("status %d: %s", code, out)
	}
}
