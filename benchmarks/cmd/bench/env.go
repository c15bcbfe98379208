package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
)

// versions names every piece of software a figure depends on.
func versions(ctx context.Context, cfg *config) map[string]string {
	v := map[string]string{"go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			for _, p := range []string{"gonum.org/v1/gonum", "github.com/parquet-go/parquet-go", "knative.dev/func-go", "gocloud.dev"} {
				if d.Path == p {
					v[p] = d.Version
				}
			}
		}
	}
	pyPackages := func(py, label string, pkgs ...string) {
		script := "import json, sys, importlib.metadata as m\nout = {'python': sys.version.split()[0]}\nfor p in sys.argv[1:]:\n    try: out[p] = m.version(p)\n    except Exception: pass\nprint(json.dumps(out))"
		out, err := exec.CommandContext(ctx, py, append([]string{"-c", script}, pkgs...)...).Output()
		if err != nil {
			return
		}
		var got map[string]string
		if json.Unmarshal(out, &got) == nil {
			for k, ver := range got {
				v[label+" "+k] = ver
			}
		}
	}
	pyPackages(cfg.py, ".venv", "scikit-learn", "numpy", "pandas", "evidently", "mlflow")
	pyPackages(cfg.pyBench, ".venv-bench", "mlserver", "mlserver-sklearn", "mlflow", "scikit-learn", "uvicorn", "uvloop")
	if out, err := exec.CommandContext(ctx, "wrk", "-v").CombinedOutput(); len(out) > 0 {
		_ = err // wrk -v exits 1 after printing its version
		v["wrk"] = strings.Fields(string(out) + " ? ?")[1]
	}
	if out, err := exec.CommandContext(ctx, "podman", "--version").Output(); err == nil {
		v["podman"] = strings.TrimPrefix(strings.TrimSpace(string(out)), "podman version ")
	}
	return v
}

// subcommands run in child processes of the harness, so that their wall
// time and peak memory are their own.
var subcommands = map[string]func(args []string) error{
	"fit-go":        fitGoCmd,
	"drift-go":      driftGoCmd,
	"serve-predict": servePredictCmd,
	"peak":          peakCmd,
	"train-e2e":     trainE2ECmd,
	"ingress":       ingressCmd,
}
