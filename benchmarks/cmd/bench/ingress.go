package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ingressCmd measures predict's throughput through a cluster's ingress:
// the path a client takes on the real cluster (Traefik, then Knative's
// activator or the pod). It is not part of the full run, which has no
// cluster; the cluster step of .ci/run, or `make cluster-up deploy smoke`,
// leaves one with a champion to measure.
func ingressCmd(args []string) error {
	fs := flag.NewFlagSet("ingress", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: bench ingress [flags]

Sends one-record predictions to predict through the cluster's ingress with
wrk, at each concurrency, after a warm-up, and prints throughput and
latency. The API token is read from $CLAIMRISK_API_TOKEN (on the cluster:
kubectl -n claimrisk get secret claimrisk-api-token
  -o jsonpath='{.data.CLAIMRISK_API_TOKEN}' | base64 -d).

`)
		fs.PrintDefaults()
	}
	url := fs.String("url", "http://127.0.0.1:31080", "the ingress")
	host := fs.String("host", "predict.claimrisk.127.0.0.1.sslip.io", "predict's host name behind the ingress")
	levels := fs.String("concurrency", "1,32", "comma-separated concurrencies")
	d := fs.Duration("duration", 20*time.Second, "length of each measured run")
	warmup := fs.Duration("warmup", 10*time.Second, "length of the warm-up at the highest concurrency")
	reps := fs.Int("reps", 3, "runs per concurrency")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := os.Getenv("CLAIMRISK_API_TOKEN")
	if token == "" {
		return errors.New("CLAIMRISK_API_TOKEN is not set (see bench ingress -h)")
	}
	var cs []int
	for _, f := range strings.Split(*levels, ",") {
		var c int
		if _, err := fmt.Sscan(f, &c); err != nil || c < 1 {
			return fmt.Errorf("--concurrency %q: give positive whole numbers", *levels)
		}
		cs = append(cs, c)
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed (apt-get install wrk)")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	// The serving benchmark's request pool: policies of seed 7, one record
	// per request.
	d7, err := generate(7, 2_000)
	if err != nil {
		return err
	}
	recs := records(d7)
	recs = recs[len(recs)-200:]
	var lines []string
	for _, r := range recs {
		lines = append(lines, string(predictBody(r)))
	}
	dir, err := os.MkdirTemp("", "bench-ingress-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bodies := filepath.Join(dir, "bodies.jsonl")
	if err := os.WriteFile(bodies, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	endpoint := strings.TrimRight(*url, "/") + "/v1/predict"
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(lines[0]))
	req.Host = *host
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	// The first request may wake predict from zero.
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("predict through %s (Host %s): %w", endpoint, *host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("predict through %s (Host %s) answered %d: is the cluster up with a champion, and the token right?", endpoint, *host, resp.StatusCode)
	}
	wrk := func(c int, dur time.Duration) (wrkResult, error) {
		argv := []string{"wrk", "-t1", fmt.Sprintf("-c%d", c), fmt.Sprintf("-d%ds", max(1, int(dur.Round(time.Second).Seconds()))),
			"--timeout", "5s", "-H", "Host: " + *host, "-H", "Authorization: Bearer " + token,
			"-s", filepath.Join(root, "benchmarks", "wrk", "post.lua"), endpoint, "--", bodies}
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			return wrkResult{}, fmt.Errorf("wrk: %w", err)
		}
		return parseWrk(out)
	}
	fmt.Fprintf(os.Stderr, "warming up for %s at c=%d\n", *warmup, slices.Max(cs))
	if _, err := wrk(slices.Max(cs), *warmup); err != nil {
		return err
	}
	fmt.Printf("predict through %s (Host %s), one record per request, %d runs of %s each:\n\n", *url, *host, *reps, *d)
	fmt.Println("| concurrency | run | req/s | p50 | p99 | errors |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range cs {
		for i := range *reps {
			r, err := wrk(c, *d)
			if err != nil {
				return err
			}
			secs := float64(r.DurationUs) / 1e6
			fmt.Printf("| %d | %d | %.0f | %.2f ms | %.2f ms | %d |\n", c, i+1, float64(r.Requests)/secs,
				float64(r.LatencyUs.P50)/1e3, float64(r.LatencyUs.P99)/1e3, r.errors())
		}
	}
	return nil
}
