package localrun

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// MLflowSpec describes an MLflow tracking server with a SQLite backend
// store and proxied artifacts under dir, listening on addr.
func MLflowSpec(mlflowPath, dir, addr string) Spec {
	host, port, _ := net.SplitHostPort(addr)
	return Spec{
		Name: "mlflow",
		Path: mlflowPath,
		Args: []string{"server",
			"--backend-store-uri", "sqlite:///" + filepath.Join(dir, "mlflow.db"),
			"--artifacts-destination", filepath.Join(dir, "artifacts"),
			"--host", host, "--port", port, "--workers", "1"},
		// MLflow 3 starts a job runner (huey consumers, several processes
		// of about 190 MB each) for its GenAI features; claimrisk uses none
		// of them, and without it the server starts faster in a fraction
		// of the memory.
		Env:     []string{"MLFLOW_TRACKING_URI=", "PYTHONUNBUFFERED=1", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false"},
		Addr:    addr,
		Ready:   "/health",
		Timeout: 120 * time.Second,
	}
}

// FindMLflow looks for the mlflow command: CLAIMRISK_MLFLOW, then the
// project's .venv beside binDir's parent, then PATH.
func FindMLflow(binDir string) (string, bool) {
	if p := os.Getenv("CLAIMRISK_MLFLOW"); p != "" {
		return p, true
	}
	for _, p := range []string{filepath.Join(binDir, "..", ".venv", "bin", "mlflow")} {
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), true
		}
	}
	if p, err := exec.LookPath("mlflow"); err == nil {
		return p, true
	}
	return "", false
}
