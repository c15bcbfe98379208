package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/promotion"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/training"
)

// shadowConcurrency is the level the issue asks the cost at.
const shadowConcurrency = 32

// shadowData is the shadow section of results.json.
type shadowData struct {
	Champion   int `json:"champion_version"`
	Challenger int `json:"challenger_version"`
	// Off and On are predict's throughput and latency at c=32 without and
	// with the challenger scored in shadow, runs interleaved.
	OffThroughput Figure `json:"off_throughput"`
	OnThroughput  Figure `json:"on_throughput"`
	OffP50        Figure `json:"off_p50_us"`
	OnP50         Figure `json:"on_p50_us"`
	OffP99        Figure `json:"off_p99_us"`
	OnP99         Figure `json:"on_p99_us"`
	// ShadowUs is the server's own measure: the mean time a request spent
	// scoring the challenger and logging its answer
	// (claimrisk_shadow_scoring_seconds sum over count), in µs.
	ShadowUs   Figure  `json:"shadow_us_per_request"`
	CostShare  float64 `json:"throughput_cost_share"`
	ShadowRows int64   `json:"shadow_rows_logged"`
}

// addChallenger trains on another portfolio and registers the result as a
// challenger the gate rejects, so that predict scores it in shadow.
func addChallenger(ctx context.Context, bucketURL string, n int) error {
	b, err := blobstore.Open(ctx, bucketURL)
	if err != nil {
		return err
	}
	defer b.Close()
	d, err := generate(7, n)
	if err != nil {
		return err
	}
	objs, m, err := d.Encode("synthetic (bench challenger)")
	if err != nil {
		return err
	}
	if err := dataset.Upload(ctx, b, objs, m, nil); err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, _ := pseudonym.New(pseudonym.DevKey)
	runs := runstore.New(b)
	tr := &training.Trainer{Bucket: b, Runs: runs, L2: 1, CodeVersion: "bench", Pseudonymise: p.Of, Log: quiet}
	out, err := tr.TrainDataset(ctx, m.ID(), "bench")
	if err != nil {
		return err
	}
	policy := promotion.DefaultPolicy()
	policy.Margin, policy.LogLossMargin = 1, 1 // it stays the challenger
	gate := &promotion.Gate{Registry: registry.Open(b, model.Name), Runs: runs, Policy: policy, Actor: "bench", Log: quiet}
	dec, err := gate.Judge(ctx, out.Best.ID)
	if err != nil {
		return err
	}
	if dec.Promoted {
		return fmt.Errorf("the challenger was promoted: %s", dec.Reason)
	}
	return nil
}

// shadowBench measures what scoring a challenger in shadow costs predict at
// concurrency 32: the same binary on the same bucket (champion and
// challenger) with CLAIMRISK_SHADOW off and on, wrk runs interleaved so that
// the machine's load falls on both alike.
func shadowBench(ctx context.Context, cfg *config) (*result, error) {
	if _, err := os.Stat("/usr/bin/wrk"); err != nil {
		return nil, missingTool("wrk is not installed (apt-get install wrk)")
	}
	dir := filepath.Join(cfg.work, fmt.Sprintf("shadow-%d", cfg.servePolicies))
	bucket := filepath.Join(dir, "bucket")
	err := cached(dir, func() error {
		if _, err := trainChampion(ctx, "file://"+bucket, 42, cfg.servePolicies); err != nil {
			return err
		}
		return addChallenger(ctx, "file://"+bucket, cfg.servePolicies)
	})
	if err != nil {
		return nil, fmt.Errorf("shadow fixture: %w", err)
	}
	os.RemoveAll(filepath.Join(bucket, "predlog"))
	fx, err := newServingFixture(ctx, cfg) // for its records
	if err != nil {
		return nil, err
	}
	b, err := blobstore.Open(ctx, "file://"+bucket)
	if err != nil {
		return nil, err
	}
	state, err := registry.Open(b, model.Name).Aliases(ctx)
	b.Close()
	if err != nil {
		return nil, err
	}
	data := &shadowData{Champion: state.Aliases[registry.Champion], Challenger: state.Aliases[registry.Challenger]}
	res := &result{Data: data}
	var lines []string
	spec := serverSpecs(cfg, fx)[0]
	for _, r := range fx.records {
		lines = append(lines, string(spec.body(r)))
	}
	bodies := filepath.Join(cfg.work, "shadow-bodies.jsonl")
	if err := os.WriteFile(bodies, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	type run struct {
		tput, p50, p99, shadowUs []float64
	}
	var off, on run
	reps := max(cfg.serveReps, 1)
	for rep := range reps {
		for _, shadow := range []bool{false, true} {
			port := freePort()
			url := fmt.Sprintf("http://127.0.0.1:%d/v1/predict", port)
			env := []string{fmt.Sprintf("LISTEN_ADDRESS=127.0.0.1:%d", port), "CLAIMRISK_BUCKET=file://" + bucket, "LOG_LEVEL=warn",
				"CLAIMRISK_SHADOW=" + strconv.FormatBool(shadow)}
			srv, err := startServer("predict-shadow", serverCPU, []string{filepath.Join(cfg.bin, "predict")}, env, cfg.work, url)
			if err != nil {
				return res, err
			}
			metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
			if _, err := srv.waitFor(60*time.Second, 20*time.Millisecond, func() bool {
				code, _, err := post(url, []byte(lines[0]))
				if err != nil || code != 200 {
					return false
				}
				// With shadow on, wait until the challenger is loaded too.
				return !shadow || metric(metricsURL, "claimrisk_shadow_scoring_seconds_count") > 0
			}); err != nil {
				srv.stop(10 * time.Second)
				return res, err
			}
			if cfg.serveWarmup > 0 {
				if _, err := wrkRun(ctx, cfg, url, bodies, shadowConcurrency, cfg.serveWarmup); err != nil {
					srv.stop(10 * time.Second)
					return res, err
				}
			}
			sum0, n0 := metric(metricsURL, "claimrisk_shadow_scoring_seconds_sum"), metric(metricsURL, "claimrisk_shadow_scoring_seconds_count")
			w, err := wrkRun(ctx, cfg, url, bodies, shadowConcurrency, cfg.serveDuration)
			if err != nil {
				srv.stop(10 * time.Second)
				return res, err
			}
			sum1, n1 := metric(metricsURL, "claimrisk_shadow_scoring_seconds_sum"), metric(metricsURL, "claimrisk_shadow_scoring_seconds_count")
			srv.stop(10 * time.Second)
			r := &off
			if shadow {
				r = &on
				if n1 > n0 {
					r.shadowUs = append(r.shadowUs, 1e6*(sum1-sum0)/(n1-n0))
				}
				data.ShadowRows += int64(n1 - n0)
			}
			ok := w.Requests - w.Errors.Status
			r.tput = append(r.tput, float64(ok)/(float64(w.DurationUs)/1e6))
			r.p50 = append(r.p50, float64(w.LatencyUs.P50))
			r.p99 = append(r.p99, float64(w.LatencyUs.P99))
			fmt.Fprintf(os.Stderr, "   run %d shadow=%-5v c=%d %.0f req/s, p50 %d µs, p99 %d µs, %d errors\n", rep+1, shadow, shadowConcurrency,
				r.tput[len(r.tput)-1], w.LatencyUs.P50, w.LatencyUs.P99, w.errors())
		}
	}
	data.OffThroughput, data.OnThroughput = figure("req/s", off.tput...), figure("req/s", on.tput...)
	data.OffP50, data.OnP50 = figure("µs", off.p50...), figure("µs", on.p50...)
	data.OffP99, data.OnP99 = figure("µs", off.p99...), figure("µs", on.p99...)
	data.ShadowUs = figure("µs", on.shadowUs...)
	data.CostShare = 1 - data.OnThroughput.Median/data.OffThroughput.Median
	var md strings.Builder
	fmt.Fprintf(&md, "The predict function at concurrency %d, single-record requests from `wrk`, on a bucket with champion v%d and challenger v%d: CLAIMRISK_SHADOW off, then on, %d time(s), interleaved, %s each after a %s warm-up.\n\n",
		shadowConcurrency, data.Champion, data.Challenger, reps, cfg.serveDuration, cfg.serveWarmup)
	md.WriteString("| shadow | throughput (req/s) | p50 (µs) | p99 (µs) |\n|---|---|---|---|\n")
	fmt.Fprintf(&md, "| off | %s | %s | %s |\n| on | %s | %s | %s |\n\n", data.OffThroughput, data.OffP50, data.OffP99, data.OnThroughput, data.OnP50, data.OnP99)
	fmt.Fprintf(&md, "Scoring the challenger and logging both answers takes %s per request by predict's own histogram (claimrisk_shadow_scoring_seconds); throughput falls by %.1f%% with it on.\n",
		data.ShadowUs, 100*data.CostShare)
	res.Markdown = md.String()
	return res, nil
}

// metric reads one unlabelled sample from a Prometheus text page (0 when absent).
func metric(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}
