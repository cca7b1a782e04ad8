package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveSyncBuffer is a bytes.Buffer safe for the server's log writes.
type serveSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var serveAddrRE = regexp.MustCompile(`on http://(\S+) `)

// serveStart runs `tfdrun serve` with args on a free loopback port and
// returns its base URL, a stop func (the SIGTERM) and the command's result.
func serveStart(t *testing.T, args ...string) (string, func() error, *serveSyncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errOut := &serveSyncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- cmdServe(ctx, append(args, "--host", "127.0.0.1", "--port", "0"), io.Discard, errOut)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := serveAddrRE.FindStringSubmatch(errOut.String()); m != nil {
			stop := func() error {
				cancel()
				return <-done
			}
			t.Cleanup(func() { cancel() })
			return "http://" + m[1], stop, errOut
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func servePost(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeMLP(t *testing.T) {
	url, stop, logs := serveStart(t, "--model", "mlp="+testdata("mlp.pb"), "--batching", "--max_batch_size", "64", "--workers", "1")
	row := "[" + strings.Repeat("0.01, ", 783) + "0.01]"
	code, body := servePost(t, url+"/v1/models/mlp:predict", `{"instances": [`+row+`, `+row+`]}`)
	if code != http.StatusOK {
		t.Fatalf("predict: %d %s", code, body)
	}
	var resp struct{ Predictions [][]float64 }
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Predictions) != 2 || len(resp.Predictions[0]) != 100 {
		t.Fatalf("predictions have shape %d×%d, want 2×100", len(resp.Predictions), len(resp.Predictions[0]))
	}
	sum := 0.0
	for _, p := range resp.Predictions[0] {
		sum += p
	}
	if sum < 0.999 || sum > 1.001 { // softmax
		t.Fatalf("probabilities sum to %v", sum)
	}
	resp2, err := http.Get(url + "/v1/models/mlp")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if !strings.Contains(string(b), `"version": "1"`) || !strings.Contains(string(b), `"AVAILABLE"`) {
		t.Fatalf("status: %s", b)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after SIGTERM", err)
	}
	if l := logs.String(); !strings.Contains(l, "msg=request") || !strings.Contains(l, "model=mlp") || !strings.Contains(l, "drained") {
		t.Fatalf("logs lack the request line or the drain:\n%s", l)
	}
}

func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "mlp")
	for _, v := range []string{"1", "2"} {
		if err := os.MkdirAll(filepath.Join(base, v), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(testdata("mlp.pb"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, v, "model.pb"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "models.config")
	os.WriteFile(cfg, []byte(`model_config_list { config { name: "m" base_path: "`+base+`" model_platform: "tensorflow"
		model_version_policy { all {} } version_labels { key: "stable" value: 1 } } }`), 0o644)
	bp := filepath.Join(dir, "batching.config")
	os.WriteFile(bp, []byte("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 100 }\n"), 0o644)
	url, stop, _ := serveStart(t, "--model_config_file", cfg, "--batching_parameters_file", bp, "--log_format", "json")
	row := "[" + strings.Repeat("0, ", 783) + "0]"
	for _, path := range []string{"/v1/models/m/labels/stable:predict", "/v1/models/m/versions/2:predict", "/v1/models/m:predict"} {
		if code, body := servePost(t, url+path, `{"inputs": [`+row+`]}`); code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		args  []string
		usage bool
		want  string
	}{
		{args: nil, usage: true, want: "expected models"},
		{args: []string{"--model", "nopath"}, usage: true, want: "NAME=PATH"},
		{args: []string{"--model", "m=x", "--label", "m:l"}, usage: true, want: "NAME:LABEL=VERSION"},
		{args: []string{"--model", "m=x", "--label", "other:l=1"}, usage: true, want: "names no configured model"},
		{args: []string{"--model_name", "m"}, usage: true, want: "go together"},
		{args: []string{"--model", "m=x", "--log_format", "xml"}, usage: true, want: "--log_format"},
		{args: []string{"--model", "m=x", "--allowed_batch_sizes", "a"}, usage: true, want: "comma-separated"},
		{args: []string{"--model", "m=x", "--max_batch_size", "8", "--allowed_batch_sizes", "4"}, want: "must match max_batch_size"},
		{args: []string{"--config", "/nonexistent/models.config"}, want: "no such file"},
		{args: []string{"stray"}, usage: true, want: "positional"},
	}
	for _, tc := range tests {
		err := cmdServe(context.Background(), tc.args, io.Discard, io.Discard)
		var ue *usageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ue) != tc.usage {
			t.Errorf("serve %q: err = %v (usage error: %v), want %q (usage: %v)", tc.args, err, errors.As(err, &ue), tc.want, tc.usage)
		}
	}
}

func TestServeModelThatFailsToLoad(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pb")
	os.WriteFile(bad, []byte("not a graph"), 0o644)
	url, stop, _ := serveStart(t, "--model", "bad="+bad, "--model", "mlp="+testdata("mlp.pb"))
	resp, err := http.Get(url + "/v1/models/bad")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"state": "END"`) || strings.Contains(string(b), `"error_message": ""`) {
		t.Fatalf("status of the broken model: %d %s", resp.StatusCode, b)
	}
	if code, body := servePost(t, url+"/v1/models/bad:predict", `{"instances": [1]}`); code != http.StatusNotFound {
		t.Fatalf("predict on the broken model: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeThroughRealMain(t *testing.T) {
	code, _, errOut := run(t, "serve")
	if code != 2 || !strings.Contains(errOut, "expected models") {
		t.Fatalf("tfdrun serve without models: exit %d, %s", code, errOut)
	}
	code, out, _ := run(t, "help")
	if code != 0 || !strings.Contains(out, "serve    serve models over TensorFlow Serving's REST API") {
		t.Fatalf("usage lacks serve: %s", out)
	}
}

// TestServeEnsemble serves two copies of the MLP combined by max as one
// model: the max of a model with itself is the model, so the ensemble's
// predictions equal the single model's exactly.
func TestServeEnsemble(t *testing.T) {
	url, stop, _ := serveStart(t, "--model", "mlp="+testdata("mlp.pb"),
		"--ensemble", "both=max:"+testdata("mlp.pb")+","+testdata("mlp.pb"), "--workers", "1")
	row := "[" + strings.Repeat("0.02, ", 783) + "0.5]"
	get := func(model string) []float64 {
		code, body := servePost(t, url+"/v1/models/"+model+":predict", `{"instances": [`+row+`]}`)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", model, code, body)
		}
		var resp struct{ Predictions [][]float64 }
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		return resp.Predictions[0]
	}
	single, ens := get("mlp"), get("both")
	for i := range single {
		if single[i] != ens[i] {
			t.Fatalf("ensemble of identical models differs at %d: %v vs %v", i, ens[i], single[i])
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServeMaxRunBytes: --max-run-bytes reaches the served models, so a
// request whose run would hold more than the budget gets 400 naming the
// node, while a request within it is answered.
func TestServeMaxRunBytes(t *testing.T) {
	// The budget counts the tensors a run makes (the feeds are the
	// caller's): 64 rows make 64×100 logits and as many probabilities
	// (51 KB), one row 800 bytes.
	url, stop, _ := serveStart(t, "--model", "mlp="+testdata("mlp.pb"), "--workers", "1", "--max-run-bytes", "16KiB")
	row := "[" + strings.Repeat("0.01, ", 783) + "0.01]"
	if code, body := servePost(t, url+"/v1/models/mlp:predict", `{"instances": [`+row+`]}`); code != http.StatusOK {
		t.Fatalf("one row: %d %.300s", code, body)
	}
	rows := strings.Repeat(row+", ", 63) + row
	code, body := servePost(t, url+"/v1/models/mlp:predict", `{"instances": [`+rows+`]}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "node ") || !strings.Contains(body, "bytes") {
		t.Fatalf("64 rows over a 16 KiB budget: %d %.300s, want 400 naming the node and the bytes", code, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
