package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	fhttp "knative.dev/func-go/http"

	function "github.com/claimrisk/claimrisk/functions/predict"
	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// predictLimit is the in-process limit: ns per record of model.Predict and
// model.Band on records already in memory, one goroutine.
func predictLimit(m *model.Model, recs []schema.PolicyRecord, n int) float64 {
	var sink float64
	start := time.Now()
	for i := range n {
		p := m.Predict(recs[i%len(recs)])
		if model.Band(p) != "" {
			sink += p
		}
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	if sink < 0 {
		fmt.Fprintln(os.Stderr, sink)
	}
	return ns
}

// inProcess measures the in-process limit, the predict handler without
// HTTP, and the payload log on its own.
func inProcess(ctx context.Context, cfg *config, fx *servingFixture, data *servingData) error {
	n, requests, logged := 1_000_000, 100_000, 200_000
	if cfg.smoke {
		n, requests, logged = 20_000, 2_000, 10_000
	}
	reps := max(cfg.serveReps, 3)
	if cfg.smoke {
		reps = 1
	}
	var limit, handler, logger []float64
	for range reps {
		limit = append(limit, predictLimit(fx.model, fx.records, n))
	}
	// The handler: the function started in this process on a copy of the
	// bucket, called with httptest, so no socket is involved.
	bucket := filepath.Join(cfg.work, "inprocess-bucket")
	os.RemoveAll(bucket)
	if _, _, _, err := run(ctx, cfg.work, []string{"cp", "-r", fx.bucket, bucket}, nil); err != nil {
		return err
	}
	defer os.RemoveAll(bucket)
	for k, v := range map[string]string{"CLAIMRISK_BUCKET": "file://" + bucket, "LOG_LEVEL": "error", "CLAIMRISK_POLL_INTERVAL": "1h"} {
		os.Setenv(k, v)
	}
	fn := function.New()
	if err := fn.Start(ctx, nil); err != nil {
		return err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := fn.Ready(ctx); ok {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the predict function did not load its champion in process")
		}
	}
	bodies := make([][]byte, len(fx.records))
	for i, r := range fx.records {
		bodies[i], _ = json.Marshal(predictapi.PredictRequest{Records: []schema.PolicyRecord{r}})
	}
	for range reps {
		runtime.GC()
		start := cpuTime()
		for i := range requests {
			req := httptest.NewRequest(http.MethodPost, "/v1/predict", bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			fn.Handle(w, req)
			if w.Code != 200 {
				return fmt.Errorf("the predict handler answered %d: %s", w.Code, w.Body)
			}
		}
		handler = append(handler, float64((cpuTime()-start).Nanoseconds())/float64(requests))
	}
	if err := fn.Stop(ctx); err != nil {
		return err
	}
	// The payload log alone: what the handler does per answered record.
	b, err := blobstore.Open(ctx, "file://"+bucket)
	if err != nil {
		return err
	}
	defer b.Close()
	pseudo, _ := pseudonym.New(pseudonym.DevKey)
	for range reps {
		runtime.GC()
		lg := predlog.NewLogger[predlog.Row](b, predlog.Options{Prefix: predlog.PredictionsPrefix, Instance: "bench", BatchRows: 5000})
		now := time.Now().UTC()
		start := cpuTime()
		for i := range logged {
			rec := fx.records[i%len(fx.records)]
			rec.PolicyID, rec.CustomerID = pseudo.Of(rec.PolicyID), pseudo.Of(rec.CustomerID)
			if err := lg.Add(predlog.Row{Time: now, RequestID: "req-0123456789abcdef", ModelVersion: 1, PolicyRecord: rec, CrashRate: 1, InjuryShare: 0.1, Probability: 0.07, Band: "moderate"}); err != nil {
				return err
			}
		}
		if err := lg.Close(ctx); err != nil {
			return err
		}
		logger = append(logger, float64((cpuTime()-start).Nanoseconds())/float64(logged))
	}
	data.InProcess, data.Handler, data.Logger = figure("ns", limit...), figure("ns", handler...), figure("ns", logger...)
	if h, l := data.Handler.Median, data.Logger.Median; h > l {
		data.LoggingRatio = h / (h - l)
	}
	for _, s := range data.Servers {
		if s.Name == "predict" {
			if lv := s.level(32); lv != nil && lv.Throughput.Median > 0 {
				c := 1e9 / lv.Throughput.Median
				if c > data.Logger.Median {
					data.LoggingHTTP = c / (c - data.Logger.Median)
				}
			}
		}
	}
	return nil
}

// servingProfile runs the predict function under the harness's own main
// with the CPU profiler on, drives it at concurrency 32 and saves its CPU
// and allocation profiles.
func servingProfile(ctx context.Context, cfg *config, fx *servingFixture) error {
	port := freePort()
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/predict", port)
	prof := filepath.Join(cfg.out, "profiles")
	argv := []string{cfg.self, "serve-predict", "-cpuprofile", filepath.Join(prof, "serving-cpu.pprof"), "-memprofile", filepath.Join(prof, "serving-mem.pprof")}
	env := []string{fmt.Sprintf("LISTEN_ADDRESS=127.0.0.1:%d", port), "CLAIMRISK_BUCKET=file://" + fx.bucket, "LOG_LEVEL=warn"}
	srv, err := startServer("serve-predict", serverCPU, argv, env, cfg.work, url)
	if err != nil {
		return err
	}
	defer srv.stop(10 * time.Second)
	body, _ := json.Marshal(predictapi.PredictRequest{Records: fx.records[:1]})
	if _, err := srv.waitFor(30*time.Second, 10*time.Millisecond, func() bool {
		code, _, err := post(url, body)
		return err == nil && code == 200
	}); err != nil {
		return err
	}
	d := 10 * time.Second
	if cfg.smoke {
		d = time.Second
	}
	if _, err := wrkRun(ctx, cfg, url, filepath.Join(cfg.work, "predict-bodies.jsonl"), 32, d); err != nil {
		return err
	}
	srv.stop(10 * time.Second)
	return nil
}

// servePredictCmd is `bench serve-predict`: bin/predict's main with the
// CPU profiler running until SIGTERM, then a heap profile.
func servePredictCmd(args []string) error {
	fs := flag.NewFlagSet("serve-predict", flag.ContinueOnError)
	cpu := fs.String("cpuprofile", "", "CPU profile to write")
	mem := fs.String("memprofile", "", "allocation profile to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fhttp.SetLogLevel(fhttp.LogWarn)
	_, err := profiled(*cpu, *mem, func() error { return fhttp.New(function.New()).Start(context.Background()) })
	return err
}
