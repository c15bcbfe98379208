package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// The CPUs of the serving benchmark: every server gets CPU 1 to itself
// (its children inherit the affinity), and wrk runs on CPU 0.
const (
	serverCPU = "1"
	loadCPU   = "0"
)

// servingFixture is the champion in a bucket, the peer model built from it,
// and a pool of policy records none of them was trained on.
type servingFixture struct {
	dir, bucket string
	champion    registry.Version
	model       *model.Model
	records     []schema.PolicyRecord
	peerDir     string // built by benchmarks/python/peer_model.py; "" without .venv-bench
}

func newServingFixture(ctx context.Context, cfg *config) (*servingFixture, error) {
	dir := filepath.Join(cfg.work, fmt.Sprintf("serving-%d", cfg.servePolicies))
	fx := &servingFixture{dir: dir, bucket: filepath.Join(dir, "bucket")}
	err := cached(dir, func() error {
		if _, err := trainChampion(ctx, "file://"+fx.bucket, 42, cfg.servePolicies); err != nil {
			return err
		}
		d, err := generate(7, 2_000)
		if err != nil {
			return err
		}
		recs := records(d)
		return writeJSON(filepath.Join(dir, "records.json"), recs[len(recs)-200:])
	})
	if err != nil {
		return nil, fmt.Errorf("serving fixture: %w", err)
	}
	// The payload log of earlier runs is not needed.
	os.RemoveAll(filepath.Join(fx.bucket, "predlog"))
	if err := readJSON(filepath.Join(dir, "records.json"), &fx.records); err != nil {
		return nil, err
	}
	b, err := blobstore.Open(ctx, "file://"+fx.bucket)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if fx.champion, err = registry.Open(b, model.Name).Resolve(ctx, registry.Champion); err != nil {
		return nil, err
	}
	if fx.model, err = fx.champion.LoadModel(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), fx.champion.ModelObject, 0o644); err != nil {
		return nil, err
	}
	if exists(cfg.pyBench) {
		fx.peerDir = filepath.Join(dir, "peer")
		script := filepath.Join(cfg.root, "benchmarks", "python", "peer_model.py")
		// The peer model is built again only when the script or the
		// champion changed: the sections that serve it share it.
		src, err := os.ReadFile(script)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(append(src, fx.champion.ModelObject...))
		stamp := filepath.Join(dir, "peer.sha256")
		if old, _ := os.ReadFile(stamp); string(old) != hex.EncodeToString(sum[:]) {
			if _, _, _, err := run(ctx, dir, []string{cfg.pyBench, script, "build", filepath.Join(dir, "model.json"), fx.peerDir}, nil); err != nil {
				return nil, fmt.Errorf("build the peer model: %w", err)
			}
			if err := os.WriteFile(stamp, []byte(hex.EncodeToString(sum[:])), 0o644); err != nil {
				return nil, err
			}
		}
	}
	return fx, nil
}

// target is a server under test: how to start it on a port, where to send
// a record and how to read the probability from its answer.
type serverSpec struct {
	name, label string
	argv        func(port int) []string
	env         func(port int) []string
	path        string
	body        func(schema.PolicyRecord) []byte
	prob        func([]byte) (float64, error)
	peer        bool
}

func serverSpecs(cfg *config, fx *servingFixture) []serverSpec {
	specs := []serverSpec{
		{
			name: "predict", label: "predict function (Go, func-go)",
			argv: func(int) []string { return []string{filepath.Join(cfg.bin, "predict")} },
			env: func(port int) []string {
				return []string{fmt.Sprintf("LISTEN_ADDRESS=127.0.0.1:%d", port), "CLAIMRISK_BUCKET=file://" + fx.bucket, "LOG_LEVEL=warn"}
			},
			path: "/v1/predict", body: predictBody,
			prob: func(b []byte) (float64, error) {
				var r predictapi.PredictResponse
				if err := json.Unmarshal(b, &r); err != nil || len(r.Predictions) != 1 {
					return 0, fmt.Errorf("unexpected answer %.200s", b)
				}
				return r.Predictions[0].ClaimProbability, nil
			},
		},
		{
			name: "empty", label: "empty handler (func-go)",
			argv: func(int) []string { return []string{filepath.Join(cfg.work, "emptyfunc")} },
			env:  func(port int) []string { return []string{fmt.Sprintf("LISTEN_ADDRESS=127.0.0.1:%d", port)} },
			path: "/", body: predictBody,
			prob: func([]byte) (float64, error) { return math.NaN(), nil },
		},
	}
	if fx.peerDir == "" {
		return specs
	}
	benchBin := filepath.Dir(cfg.pyBench)
	path := "PATH=" + benchBin + string(os.PathListSeparator) + os.Getenv("PATH")
	// The design row: what the Go model computes from the record, for the
	// peers' bare LogisticRegression (the least work a peer can be given).
	row := func(r schema.PolicyRecord) []float64 {
		d := fx.model.Design()
		x := make([]float64, d.Width())
		d.Row(x, r, d.AccidentFor(r))
		return x
	}
	mlflowSpec := func(name, label, dir string, body func(schema.PolicyRecord) []byte) serverSpec {
		return serverSpec{
			name: name, label: label, peer: true,
			argv: func(port int) []string {
				return []string{filepath.Join(benchBin, "mlflow"), "models", "serve", "-m", filepath.Join(fx.peerDir, dir),
					"--env-manager", "local", "-h", "127.0.0.1", "-p", fmt.Sprint(port)}
			},
			env:  func(int) []string { return []string{path} },
			path: "/invocations", body: body,
			prob: func(b []byte) (float64, error) {
				var r struct{ Predictions [][]float64 }
				if err := json.Unmarshal(b, &r); err != nil || len(r.Predictions) != 1 || len(r.Predictions[0]) != 2 {
					return 0, fmt.Errorf("unexpected answer %.200s", b)
				}
				return r.Predictions[0][1], nil
			},
		}
	}
	mlserverSpec := func(name, label, dir string, body func(schema.PolicyRecord) []byte) serverSpec {
		return serverSpec{
			name: name, label: label, peer: true,
			argv: func(int) []string {
				return []string{filepath.Join(benchBin, "mlserver"), "start", filepath.Join(fx.peerDir, dir)}
			},
			env: func(port int) []string {
				return []string{path, "MLSERVER_HOST=127.0.0.1", fmt.Sprintf("MLSERVER_HTTP_PORT=%d", port),
					fmt.Sprintf("MLSERVER_GRPC_PORT=%d", freePort()), fmt.Sprintf("MLSERVER_METRICS_PORT=%d", freePort()),
					"MLSERVER_METRICS_DIR=" + filepath.Join(fx.dir, "mlserver-metrics")}
			},
			path: "/v2/models/claimrisk/infer", body: body,
			prob: func(b []byte) (float64, error) {
				var r struct {
					Outputs []struct{ Data []float64 }
				}
				if err := json.Unmarshal(b, &r); err != nil || len(r.Outputs) != 1 || len(r.Outputs[0].Data) != 2 {
					return 0, fmt.Errorf("unexpected answer %.200s", b)
				}
				return r.Outputs[0].Data[1], nil
			},
		}
	}
	specs = append(specs,
		mlflowSpec("mlflow", "mlflow models serve, record", "mlflow", func(r schema.PolicyRecord) []byte {
			data, _ := json.Marshal(map[string]any{"dataframe_records": []schema.PolicyRecord{r}})
			return data
		}),
		mlserverSpec("mlserver", "MLServer sklearn, record", "mlserver", v2Body),
	)
	if !cfg.rowPeers {
		return specs
	}
	specs = append(specs,
		mlflowSpec("mlflow-row", "mlflow models serve, design row", "mlflow-row", func(r schema.PolicyRecord) []byte {
			data, _ := json.Marshal(map[string]any{"inputs": [][]float64{row(r)}})
			return data
		}),
		mlserverSpec("mlserver-row", "MLServer sklearn, design row", "mlserver-row", func(r schema.PolicyRecord) []byte {
			x := row(r)
			data, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "input-0", "datatype": "FP64", "shape": []int{1, len(x)}, "data": x}}})
			return data
		}),
	)
	return specs
}

// v2Body is a record as an Open Inference Protocol (V2) request of one row
// of named columns, decoded by MLServer's pandas codec.
func v2Body(r schema.PolicyRecord) []byte {
	type input struct {
		Name       string            `json:"name"`
		Datatype   string            `json:"datatype"`
		Shape      []int             `json:"shape"`
		Data       []any             `json:"data"`
		Parameters map[string]string `json:"parameters,omitempty"`
	}
	str := func(name, v string) input {
		return input{name, "BYTES", []int{1}, []any{v}, map[string]string{"content_type": "str"}}
	}
	f64 := func(name string, v float64) input {
		return input{Name: name, Datatype: "FP64", Shape: []int{1}, Data: []any{v}}
	}
	i64 := func(name string, v int) input {
		return input{Name: name, Datatype: "INT64", Shape: []int{1}, Data: []any{v}}
	}
	req := map[string]any{
		"parameters": map[string]string{"content_type": "pd"},
		"inputs": []input{
			str("policy_id", r.PolicyID), str("customer_id", r.CustomerID), f64("age", r.Age), f64("years_licensed", r.YearsLicensed),
			i64("home_area", r.HomeArea), str("vehicle_type", r.VehicleType), i64("vehicle_age", r.VehicleAge), str("usage", r.Usage),
			f64("annual_mileage", r.AnnualMileage), str("coverage", r.Coverage), i64("deductible", r.Deductible),
		},
	}
	data, _ := json.Marshal(req)
	return data
}

// wrkResult is the summary line of benchmarks/wrk/post.lua.
type wrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUs int64 `json:"duration_us"`
	Errors     struct {
		Connect, Read, Write, Status, Timeout int64
	} `json:"errors"`
	LatencyUs struct {
		P50, P90, P99, Max int64
		Mean               float64
	} `json:"latency_us"`
}

func (w wrkResult) errors() int64 {
	return w.Errors.Connect + w.Errors.Read + w.Errors.Write + w.Errors.Status + w.Errors.Timeout
}

// wrkRun drives url with one wrk thread on the load CPU for d at
// concurrency c; it stops by itself.
func wrkRun(ctx context.Context, cfg *config, url, bodies string, c int, d time.Duration) (wrkResult, error) {
	// wrk takes whole seconds.
	dur := fmt.Sprintf("%ds", max(1, int(math.Round(d.Seconds()))))
	argv := []string{"taskset", "-c", loadCPU, "wrk", "-t1", fmt.Sprintf("-c%d", c), "-d" + dur, "--timeout", "5s",
		"-s", filepath.Join(cfg.root, "benchmarks", "wrk", "post.lua"), url, "--", bodies}
	out, _, _, err := run(ctx, cfg.work, argv, nil)
	if err != nil {
		return wrkResult{}, err
	}
	return parseWrk(out)
}

// parseWrk finds post.lua's summary line in wrk's output.
func parseWrk(out []byte) (wrkResult, error) {
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "WRKJSON "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return wrkResult{}, fmt.Errorf("wrk summary %q: %w", rest, err)
			}
			return r, nil
		}
	}
	return wrkResult{}, fmt.Errorf("wrk printed no summary:\n%s", out)
}

// predictBody is a one-record request to predict's /v1/predict.
func predictBody(r schema.PolicyRecord) []byte {
	data, _ := json.Marshal(predictapi.PredictRequest{Records: []schema.PolicyRecord{r}})
	return data
}

// levelResult is one server at one concurrency over the repeated runs.
type levelResult struct {
	Concurrency int    `json:"concurrency"`
	Throughput  Figure `json:"throughput"`
	P50         Figure `json:"p50"`
	P99         Figure `json:"p99"`
	Requests    int64  `json:"requests"`
	Errors      int64  `json:"errors"`
}

// serverResult is one server's part of the serving benchmark.
type serverResult struct {
	Name        string        `json:"name"`
	Label       string        `json:"label"`
	Peer        bool          `json:"peer"`
	Levels      []levelResult `json:"levels"`
	IdleRSSMB   float64       `json:"idle_rss_mb"`
	IdleAnonMB  float64       `json:"idle_anon_mb"`
	LoadRSSMB   float64       `json:"load_rss_mb"`
	MaxAbsDiff  float64       `json:"max_abs_diff"` // largest |p - Go model.Predict| over the record pool
	StartSecond float64       `json:"start_seconds"`
}

func (s *serverResult) level(c int) *levelResult {
	for i := range s.Levels {
		if s.Levels[i].Concurrency == c {
			return &s.Levels[i]
		}
	}
	return nil
}

// benchServer starts one server, checks its answers and drives it.
func benchServer(ctx context.Context, cfg *config, fx *servingFixture, spec serverSpec) (*serverResult, error) {
	port := freePort()
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, spec.path)
	srv, err := startServer(spec.name, serverCPU, spec.argv(port), spec.env(port), cfg.work, url)
	if err != nil {
		return nil, err
	}
	defer srv.stop(10 * time.Second)
	first := spec.body(fx.records[0])
	up, err := srv.waitFor(120*time.Second, 20*time.Millisecond, func() bool {
		code, _, err := post(url, first)
		return err == nil && code == 200
	})
	if err != nil {
		return nil, err
	}
	res := &serverResult{Name: spec.name, Label: spec.label, Peer: spec.peer, StartSecond: up.Seconds()}
	// The answers, record by record, against the Go model in this process.
	var lines []string
	for i, r := range fx.records {
		body := spec.body(r)
		lines = append(lines, string(body))
		if i >= cfg.checkRecords {
			continue
		}
		code, ans, err := post(url, body)
		if err != nil || code != 200 {
			return nil, fmt.Errorf("%s answered %d %.300s (%v)", spec.name, code, ans, err)
		}
		p, err := spec.prob(ans)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.name, err)
		}
		if !math.IsNaN(p) {
			res.MaxAbsDiff = math.Max(res.MaxAbsDiff, math.Abs(p-fx.model.Predict(r)))
		}
	}
	bodies := filepath.Join(cfg.work, spec.name+"-bodies.jsonl")
	if err := os.WriteFile(bodies, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	time.Sleep(cfg.settle)
	rss, anon := treeMem(srv.pid())
	res.IdleRSSMB, res.IdleAnonMB = mb(rss), mb(anon)
	peak := sampleRSS(srv.pid(), 100*time.Millisecond)
	if cfg.serveWarmup > 0 {
		if _, err := wrkRun(ctx, cfg, url, bodies, 32, cfg.serveWarmup); err != nil {
			return nil, err
		}
	}
	for _, c := range cfg.concurrency {
		lv := levelResult{Concurrency: c}
		var tput, p50, p99 []float64
		for range cfg.serveReps {
			w, err := wrkRun(ctx, cfg, url, bodies, c, cfg.serveDuration)
			if err != nil {
				return nil, err
			}
			ok := w.Requests - w.Errors.Status
			tput = append(tput, float64(ok)/(float64(w.DurationUs)/1e6))
			p50 = append(p50, float64(w.LatencyUs.P50))
			p99 = append(p99, float64(w.LatencyUs.P99))
			lv.Requests += w.Requests
			lv.Errors += w.errors()
		}
		lv.Throughput, lv.P50, lv.P99 = figure("req/s", tput...), figure("µs", p50...), figure("µs", p99...)
		res.Levels = append(res.Levels, lv)
		fmt.Fprintf(os.Stderr, "   %-8s c=%-2d %s, p50 %s, p99 %s, %d errors\n", spec.name, c, lv.Throughput, lv.P50, lv.P99, lv.Errors)
	}
	res.LoadRSSMB = mb(peak.finish())
	return res, nil
}

// servingData is the serving section of results.json.
type servingData struct {
	Servers []*serverResult `json:"servers"`
	// InProcess is model.Predict and model.Band on one record, in ns.
	InProcess Figure `json:"in_process_ns_per_record"`
	// Handler is the predict function's handler called in this process
	// (httptest), one record per request, payload logging on, in ns.
	Handler Figure `json:"handler_ns_per_request"`
	// Logger is the payload log's cost per answered record, in ns:
	// pseudonymising the ids, buffering the row and writing it as Parquet.
	Logger       Figure  `json:"logger_ns_per_record"`
	LoggingRatio float64 `json:"logging_ratio_in_process"`
	LoggingHTTP  float64 `json:"logging_ratio_http_c32"`
	BetterPeer   string  `json:"better_peer"`
}

func serving(ctx context.Context, cfg *config) (*result, error) {
	if _, err := os.Stat("/usr/bin/wrk"); err != nil {
		return nil, missingTool("wrk is not installed (apt-get install wrk)")
	}
	fx, err := newServingFixture(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := run(ctx, cfg.root, []string{"go", "build", "-o", filepath.Join(cfg.work, "emptyfunc"), "./benchmarks/cmd/emptyfunc"}, []string{"CGO_ENABLED=0"}); err != nil {
		return nil, err
	}
	data := &servingData{}
	res := &result{Data: data}
	if fx.peerDir == "" {
		if err := missingTool(".venv-bench is missing (make venv-bench)"); !errors.Is(err, errSkipped) {
			return nil, err
		}
		res.Notes = append(res.Notes, "the peers were not run: .venv-bench is missing (make venv-bench)")
		fmt.Fprintln(os.Stderr, "   the peers are not run: .venv-bench is missing (make venv-bench)")
	}
	for _, spec := range serverSpecs(cfg, fx) {
		sr, err := benchServer(ctx, cfg, fx, spec)
		if err != nil {
			return res, err
		}
		data.Servers = append(data.Servers, sr)
	}
	if err := inProcess(ctx, cfg, fx, data); err != nil {
		return res, err
	}
	if err := servingProfile(ctx, cfg, fx); err != nil {
		return res, err
	}
	servingReport(cfg, fx, data, res)
	return res, nil
}

func servingReport(cfg *config, fx *servingFixture, data *servingData, res *result) {
	by := map[string]*serverResult{}
	for _, s := range data.Servers {
		by[s.Name] = s
	}
	pred, empty := by["predict"], by["empty"]
	var better *serverResult
	for _, s := range data.Servers {
		if !s.Peer {
			continue
		}
		if lv := s.level(32); lv != nil && (better == nil || lv.Throughput.Median > better.level(32).Throughput.Median) {
			better = s
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Single-record requests from `wrk -t1` on CPU %s (Lua body script `benchmarks/wrk/post.lua`, cycling through %d policy records); each server pinned with `taskset -c %s` (its worker processes inherit the CPU). %d runs of %s per level after a %s warm-up at concurrency 32. Throughput counts 2xx answers only; errors are wrk's connect, read, write, timeout and non-2xx counts.\n\n",
		loadCPU, len(fx.records), serverCPU, cfg.serveReps, cfg.serveDuration, cfg.serveWarmup)
	b.WriteString("| server | concurrency | throughput (req/s) | p50 (µs) | p99 (µs) | errors |\n|---|---|---|---|---|---|\n")
	for _, s := range data.Servers {
		for _, lv := range s.Levels {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %d of %s |\n", s.Label, lv.Concurrency, lv.Throughput, lv.P50, lv.P99, lv.Errors, thousands(lv.Requests))
		}
	}
	fmt.Fprintf(&b, "\n| server | same probabilities as the Go model (max abs difference, %d records) | resident memory idle (MB) | of which anonymous (MB) | resident memory under load, peak (MB) |\n|---|---|---|---|---|\n", cfg.checkRecords)
	for _, s := range data.Servers {
		agree := fmt.Sprintf("%.1e", s.MaxAbsDiff)
		if s.Name == "empty" {
			agree = "– (answers nothing)"
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %.1f |\n", s.Label, agree, s.IdleRSSMB, s.IdleAnonMB, s.LoadRSSMB)
	}
	fmt.Fprintf(&b, "\nIn process: `model.Predict` + `model.Band` take %s per record (the in-process limit, one goroutine); the predict handler called directly (httptest, one record, payload logging on) takes %s per request; the payload log costs %s per record (pseudonyms, buffering, Parquet encoding and the bucket write, measured on its own).\n\n",
		data.InProcess, data.Handler, data.Logger)
	fmt.Fprintf(&b, "Payload logging, with over without: %s in process (handler ÷ (handler − logger)), %s over HTTP at concurrency 32 (CPU per request from throughput ÷ (that − logger)).\n\n", x(data.LoggingRatio), x(data.LoggingHTTP))
	if pred != nil && better != nil {
		data.BetterPeer = better.Name
		p32, b32 := pred.level(32), better.level(32)
		tr, lr := ratio(p32.Throughput, b32.Throughput), ratio(b32.P99, p32.P99)
		fmt.Fprintf(&b, "At concurrency 32 the predict function serves %s the throughput of the better peer (%s) with a p99 %s lower.\n", x(tr), better.Label, x(lr))
		res.Targets = append(res.Targets,
			target{"serving: throughput at c=32 vs the better peer", ">= 10x", x(tr), tr >= 10},
			target{"serving: p99 at c=32, better peer over predict", ">= 10x", x(lr), lr >= 10},
		)
	}
	if pred != nil && empty != nil {
		r := ratio(pred.level(1).P50, empty.level(1).P50)
		fmt.Fprintf(&b, "At concurrency 1 the predict function's p50 is %s the empty handler's on the same stack.\n", x(r))
		res.Targets = append(res.Targets, target{"serving: p50 at c=1, predict over the empty handler", "<= 2x", x(r), r <= 2})
		if p32, e32 := pred.level(32), empty.level(32); p32 != nil && e32 != nil {
			share, tail := ratio(p32.Throughput, e32.Throughput), ratio(p32.P99, e32.P99)
			fmt.Fprintf(&b, "At concurrency 32 the predict function serves %.0f%% of the empty handler's throughput, with a p99 %s the empty handler's.\n", 100*share, x(tail))
			res.Targets = append(res.Targets,
				target{"serving: throughput at c=32 as a share of the empty handler's", ">= 80%", fmt.Sprintf("%.0f%%", 100*share), share >= 0.8},
				target{"serving: p99 at c=32, predict over the empty handler", "<= 2x", x(tail), tail <= 2},
			)
		}
	}
	worst := 0.0
	for _, s := range data.Servers {
		if s.Name != "empty" {
			worst = math.Max(worst, s.MaxAbsDiff)
		}
	}
	res.Targets = append(res.Targets, target{"serving: same probabilities from all servers", "<= 1e-9", fmt.Sprintf("%.1e", worst), worst <= 1e-9})
	res.Markdown = b.String()
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
