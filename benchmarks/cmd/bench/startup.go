package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startupData is the start-up section of results.json.
type startupData struct {
	Process    []startResult `json:"process"`
	Container  []startResult `json:"container"`
	Images     []imageSize   `json:"images"`
	BinaryMB   float64       `json:"predict_binary_mb"`
	FasterPeer string        `json:"faster_peer"`
}

// startResult is the time from starting a server (process or container) to
// its first successful prediction, and its memory once started.
type startResult struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	Image      string `json:"image,omitempty"`
	Seconds    Figure `json:"seconds_to_first_prediction"`
	IdleRSSMB  Figure `json:"idle_rss_mb"`
	IdleAnonMB Figure `json:"idle_anon_mb"`
}

type imageSize struct {
	Name string  `json:"name"`
	Ref  string  `json:"ref"`
	MB   float64 `json:"mb"`
}

// firstPrediction starts a server and polls it with a prediction every
// millisecond until one succeeds; it returns the time from the start and
// the server's resident memory two seconds later.
func firstPrediction(spec serverSpec, fx *servingFixture, dir string, settle time.Duration) (time.Duration, [2]int64, error) {
	port := freePort()
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, spec.path)
	srv, err := startServer(spec.name+"-start", serverCPU, spec.argv(port), spec.env(port), dir, url)
	if err != nil {
		return 0, [2]int64{}, err
	}
	defer srv.stop(10 * time.Second)
	body := spec.body(fx.records[0])
	took, err := srv.waitFor(120*time.Second, time.Millisecond, func() bool {
		code, _, err := post(url, body)
		return err == nil && code == 200
	})
	if err != nil {
		return 0, [2]int64{}, err
	}
	time.Sleep(settle)
	rss, anon := treeMem(srv.pid())
	return took, [2]int64{rss, anon}, nil
}

func startup(ctx context.Context, cfg *config) (*result, error) {
	fx, err := newServingFixture(ctx, cfg)
	if err != nil {
		return nil, err
	}
	data := &startupData{}
	res := &result{Data: data}
	if st, err := os.Stat(filepath.Join(cfg.bin, "predict")); err == nil {
		data.BinaryMB = mb(st.Size())
	}
	for _, spec := range serverSpecs(cfg, fx) {
		reps := cfg.peerStartReps
		switch {
		case spec.name == "predict":
			reps = cfg.startReps
		case spec.name == "empty" || strings.HasSuffix(spec.name, "-row"):
			continue
		}
		if reps == 0 {
			res.Notes = append(res.Notes, spec.label+": not started in the smoke run")
			continue
		}
		var secs, rss, anon []float64
		for range reps {
			took, mem, err := firstPrediction(spec, fx, cfg.work, cfg.settle)
			if err != nil {
				return res, err
			}
			secs, rss, anon = append(secs, took.Seconds()), append(rss, mb(mem[0])), append(anon, mb(mem[1]))
		}
		r := startResult{Name: spec.name, Label: spec.label, Seconds: figure("s", secs...), IdleRSSMB: figure("MB", rss...), IdleAnonMB: figure("MB", anon...)}
		fmt.Fprintf(os.Stderr, "   %-8s process start to first prediction %s, idle %s\n", spec.name, r.Seconds, r.IdleRSSMB)
		data.Process = append(data.Process, r)
	}
	if cfg.containers {
		if err := containerStartup(ctx, cfg, fx, data, res); err != nil {
			return res, err
		}
	} else {
		res.Notes = append(res.Notes, "containers were not started in the smoke run")
	}
	startupReport(cfg, data, res)
	return res, nil
}

func startupReport(cfg *config, data *startupData, res *result) {
	var b strings.Builder
	fmt.Fprintf(&b, "Time from starting the server to its first successful prediction (a new connection every millisecond posts one policy record), the model loaded from the bucket (predict: the serving benchmark's `file://` bucket; peers: the model directory). Servers pinned to CPU %s as in the serving benchmark; memory is the resident set of the process and its children %s after the first prediction.\n\n", serverCPU, cfg.settle)
	b.WriteString("| server | how | start to first prediction | resident memory, idle | of which anonymous |\n|---|---|---|---|---|\n")
	rows := append(append([]startResult{}, data.Process...), data.Container...)
	for i, r := range rows {
		how := "process"
		if i >= len(data.Process) {
			how = "container `" + r.Image + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Label, how, r.Seconds, r.IdleRSSMB, r.IdleAnonMB)
	}
	if len(data.Images) > 0 {
		b.WriteString("\n| image | reference | size (MB) |\n|---|---|---|\n")
		for _, im := range data.Images {
			fmt.Fprintf(&b, "| %s | `%s` | %.1f |\n", im.Name, im.Ref, im.MB)
		}
	}
	fmt.Fprintf(&b, "\nThe predict binary (`bin/predict`, built with `-s -w`) is %.1f MB; the file-backed part of its resident memory is the pages of that binary the process has touched.\n", data.BinaryMB)
	res.Markdown = b.String()

	find := func(rs []startResult, name string) *startResult {
		for i := range rs {
			if rs[i].Name == name {
				return &rs[i]
			}
		}
		return nil
	}
	pred := find(data.Process, "predict")
	var faster *startResult
	for _, n := range []string{"mlflow", "mlserver"} {
		if p := find(data.Process, n); p != nil && (faster == nil || p.Seconds.Median < faster.Seconds.Median) {
			faster = p
		}
	}
	if pred != nil && faster != nil {
		data.FasterPeer = faster.Name
		r := ratio(faster.Seconds, pred.Seconds)
		res.Targets = append(res.Targets, target{"start-up: process start to first prediction, faster peer over predict", ">= 20x", x(r), r >= 20})
	}
	if pc, cc := find(data.Container, "predict"), data.Container; pc != nil {
		var fasterC *startResult
		for i := range cc {
			if cc[i].Name != "predict" && (fasterC == nil || cc[i].Seconds.Median < fasterC.Seconds.Median) {
				fasterC = &cc[i]
			}
		}
		if fasterC != nil {
			r := ratio(fasterC.Seconds, pc.Seconds)
			res.Targets = append(res.Targets, target{"start-up: container start to first prediction, faster peer over predict", ">= 20x", x(r), r >= 20})
		}
	}
	for _, im := range data.Images {
		if im.Name == "predict" {
			res.Targets = append(res.Targets, target{"footprint: predict function image", "< 30 MB", fmt.Sprintf("%.1f MB", im.MB), im.MB < 30})
		}
	}
	if pred != nil {
		res.Targets = append(res.Targets, target{"footprint: predict idle resident memory (RSS)", "< 30 MB", fmt.Sprintf("%.1f MB (%.1f MB anonymous)", pred.IdleRSSMB.Median, pred.IdleAnonMB.Median), pred.IdleRSSMB.Median < 30})
	}
}

// containerStartup measures the predict image and the peer image under
// podman: container start to first prediction, and image sizes.
func containerStartup(ctx context.Context, cfg *config, fx *servingFixture, data *startupData, res *result) error {
	if _, err := exec.LookPath("podman"); err != nil {
		if err := missingTool("podman is not installed"); !errors.Is(err, errSkipped) {
			return err
		}
		res.Notes = append(res.Notes, "podman is not installed: no container figures")
		return nil
	}
	predictImage, how, err := predictImage(ctx, cfg)
	if err != nil {
		return err
	}
	res.Notes = append(res.Notes, "predict image: "+how)
	// A copy of the bucket the image's user (65532) can write the payload log to.
	bucket := filepath.Join(cfg.work, "container-bucket")
	os.RemoveAll(bucket)
	if _, _, _, err := run(ctx, cfg.work, []string{"cp", "-r", fx.bucket, bucket}, nil); err != nil {
		return err
	}
	if _, _, _, err := run(ctx, cfg.work, []string{"chmod", "-R", "a+rwX", bucket}, nil); err != nil {
		return err
	}
	peerImage, how, err := peerImage(ctx, cfg)
	if err != nil {
		return err
	}
	res.Notes = append(res.Notes, "peer image: "+how)
	type ctr struct {
		name, label, image string
		args               []string
		spec               string // which serverSpec's request to send
	}
	ctrs := []ctr{{"predict", "predict function (Go, func-go)", predictImage,
		[]string{"-v", bucket + ":/bucket", "-e", "CLAIMRISK_BUCKET=file:///bucket", "-e", "LOG_LEVEL=warn"}, "predict"}}
	if peerImage != "" && fx.peerDir != "" {
		// MLServer writes its environments and metrics under the working
		// directory: /tmp, as / is not the image user's.
		model := []string{"-w", "/tmp", "-v", fx.peerDir + ":/model:ro"}
		ctrs = append(ctrs,
			ctr{"mlserver", "MLServer sklearn, record", peerImage, append(model, "-e", "MLSERVER_HTTP_PORT=8080", "-e", "MLSERVER_METRICS_DIR=/tmp",
				peerImage, "mlserver", "start", "/model/mlserver"), "mlserver"},
			ctr{"mlflow", "mlflow models serve, record", peerImage, append(model, peerImage, "mlflow", "models", "serve", "-m", "/model/mlflow",
				"--env-manager", "local", "-h", "0.0.0.0", "-p", "8080"), "mlflow"},
		)
	}
	specs := map[string]serverSpec{}
	for _, s := range serverSpecs(cfg, fx) {
		specs[s.name] = s
	}
	for _, c := range ctrs {
		reps := cfg.peerStartReps
		if c.name == "predict" {
			reps = cfg.containerReps
		}
		var secs, rss, anon []float64
		for i := range reps {
			name := fmt.Sprintf("claimrisk-bench-%s-%d-%d", c.name, os.Getpid(), i)
			port := freePort()
			args := []string{"podman", "run", "-d", "--rm", "--pull=never", "--name", name, "--cpuset-cpus", serverCPU,
				"-p", fmt.Sprintf("127.0.0.1:%d:8080", port)}
			args = append(args, c.args...)
			if c.name == "predict" {
				args = append(args, c.image)
			}
			took, mem, err := containerFirstPrediction(ctx, args, name, fmt.Sprintf("http://127.0.0.1:%d%s", port, specs[c.spec].path), specs[c.spec].body(fx.records[0]), cfg.settle)
			if err != nil {
				return err
			}
			secs, rss, anon = append(secs, took.Seconds()), append(rss, mb(mem[0])), append(anon, mb(mem[1]))
		}
		r := startResult{Name: c.name, Label: c.label, Image: c.image, Seconds: figure("s", secs...), IdleRSSMB: figure("MB", rss...), IdleAnonMB: figure("MB", anon...)}
		fmt.Fprintf(os.Stderr, "   %-8s container start to first prediction %s, idle %s\n", c.name, r.Seconds, r.IdleRSSMB)
		data.Container = append(data.Container, r)
	}
	for name, ref := range map[string]string{"predict": predictImage, "peer (MLServer and mlflow)": peerImage} {
		if ref == "" {
			continue
		}
		out, _, _, err := run(ctx, cfg.work, []string{"podman", "image", "inspect", "--format", "{{.Size}}", ref}, nil)
		if err != nil {
			return err
		}
		size, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		data.Images = append(data.Images, imageSize{Name: name, Ref: ref, MB: mb(size)})
	}
	return nil
}

// containerFirstPrediction runs `podman run -d ...` and polls url until a
// prediction succeeds; the time counts from the podman command's start.
func containerFirstPrediction(ctx context.Context, args []string, name, url string, body []byte, settle time.Duration) (time.Duration, [2]int64, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	defer exec.Command("podman", "rm", "-f", "-t", "2", name).Run()
	if err != nil {
		return 0, [2]int64{}, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
	}
	deadline := start.Add(120 * time.Second)
	for {
		if code, _, err := post(url, body); err == nil && code == 200 {
			break
		}
		if time.Now().After(deadline) {
			logs, _ := exec.Command("podman", "logs", name).CombinedOutput()
			return 0, [2]int64{}, fmt.Errorf("container %s did not answer within 2 minutes:\n%s", name, logs)
		}
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	time.Sleep(settle)
	pidOut, err := exec.Command("podman", "inspect", "--format", "{{.State.Pid}}", name).Output()
	if err != nil {
		return took, [2]int64{}, nil
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidOut)))
	rss, anon := treeMem(pid)
	return took, [2]int64{rss, anon}, nil
}

// predictImage is the image `make images` built for this commit if there
// is one, else a FROM-scratch image of bin/predict built here.
func predictImage(ctx context.Context, cfg *config) (ref, how string, err error) {
	commit, _, _, _ := run(ctx, cfg.root, []string{"git", "rev-parse", "--short=12", "HEAD"}, nil)
	made := "kind.local/claimrisk/predict:" + strings.TrimSpace(string(commit))
	if exec.CommandContext(ctx, "podman", "image", "exists", made).Run() == nil {
		return made, "`" + made + "`, built by make images", nil
	}
	bin, err := os.ReadFile(filepath.Join(cfg.bin, "predict"))
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(bin)
	ref = "localhost/claimrisk-bench/predict:" + hex.EncodeToString(sum[:])[:12]
	how = "`" + ref + "`, FROM scratch with bin/predict (benchmarks/containers/predict/Containerfile), because make images had not built " + made
	if exec.CommandContext(ctx, "podman", "image", "exists", ref).Run() == nil {
		return ref, how, nil
	}
	dir := filepath.Join(cfg.work, "predict-image")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "function"), bin, 0o755); err != nil {
		return "", "", err
	}
	_, _, _, err = run(ctx, dir, []string{"podman", "build", "--pull=never", "-q", "-f", filepath.Join(cfg.root, "benchmarks", "containers", "predict", "Containerfile"), "-t", ref, dir}, nil)
	return ref, how, err
}

// peerImage builds the peers' image on the local Debian base, once per
// version of its Containerfile and lock.
func peerImage(ctx context.Context, cfg *config) (ref, how string, err error) {
	const base = "localhost/debian-base:bookworm"
	if exec.CommandContext(ctx, "podman", "image", "exists", base).Run() != nil {
		return "", "not built: the local Python base " + base + " is missing (make it with debootstrap as /work/shared/notes/containers.md describes)", nil
	}
	containerfile := filepath.Join(cfg.root, "benchmarks", "containers", "peer", "Containerfile")
	h := sha256.New()
	for _, p := range []string{containerfile, filepath.Join(cfg.root, "requirements-bench.txt")} {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", "", err
		}
		h.Write(data)
	}
	ref = "localhost/claimrisk-bench/peer:" + hex.EncodeToString(h.Sum(nil))[:12]
	how = "`" + ref + "`, " + base + " with Debian's python3 and the hash-checked requirements-bench.txt (benchmarks/containers/peer/Containerfile); the model directory is mounted at /model"
	if exec.CommandContext(ctx, "podman", "image", "exists", ref).Run() == nil {
		return ref, how, nil
	}
	dir := filepath.Join(cfg.work, "peer-image")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	lock, err := os.ReadFile(filepath.Join(cfg.root, "requirements-bench.txt"))
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "requirements-bench.txt"), lock, 0o644); err != nil {
		return "", "", err
	}
	fmt.Fprintf(os.Stderr, "   building %s (a few minutes, once) ...\n", ref)
	args := []string{"podman", "build", "--pull=never", "-q", "--build-arg", "BASE_IMAGE=" + base, "-f", containerfile, "-t", ref}
	if ca := os.Getenv("PIP_CERT"); ca != "" {
		args = append(args, "--secret", "id=pipcert,src="+ca)
	}
	_, _, _, err = run(ctx, dir, append(args, dir), nil)
	return ref, how, err
}
