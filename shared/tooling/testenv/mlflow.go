package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// MLflow backend stores the integration tests run on.
const (
	SQLite     = "sqlite"
	PostgreSQL = "postgresql"
)

// PostgresEnv names the variable that gives a PostgreSQL server for MLflow's
// backend store, as postgresql://user:password@host:port/ (the role needs
// CREATEDB). .ci/run starts Debian's server and sets it. Without it the
// PostgreSQL cases skip, or fail under CLAIMRISK_REQUIRE_TOOLS=1.
const PostgresEnv = "CLAIMRISK_POSTGRES_URL"

// MLflowBackends lists the backend stores, for table-driven tests.
func MLflowBackends() []string { return []string{SQLite, PostgreSQL} }

// MLflowOptions configure a test's MLflow server.
type MLflowOptions struct {
	// Backend is SQLite (the default) or PostgreSQL.
	Backend string
	// Addr is the loopback address to listen on; a free one when empty.
	Addr string
	// AdminUser and AdminPassword, when set, run the server with basic
	// authentication (--app-name basic-auth), as the production profile
	// does, with this admin account.
	AdminUser, AdminPassword string
}

// MLflowOn starts a real `mlflow server` as o says and returns its URL; it
// stops when the test ends. Each PostgreSQL server gets a fresh database,
// dropped afterwards.
func MLflowOn(t testing.TB, o MLflowOptions) string {
	t.Helper()
	url, _ := MLflowStoppable(t, o)
	return url
}

// MLflowStoppable is MLflowOn, and also returns a function that stops the
// server before the test ends (a second call does nothing): a test can then
// start another on the same address, with a store of its own.
func MLflowStoppable(t testing.TB, o MLflowOptions) (string, func()) {
	t.Helper()
	if o.Addr == "" {
		o.Addr = FreeAddr(t)
	}
	mlflowBin := filepath.Join(filepath.Dir(Python(t)), "mlflow")
	if _, err := os.Stat(mlflowBin); err != nil {
		Require(t, "mlflow is not installed beside %s: run make venv", Python(t))
	}
	dir := t.TempDir()
	spec := localrun.MLflowSpec(mlflowBin, dir, o.Addr)
	switch o.Backend {
	case "", SQLite:
	case PostgreSQL:
		setArg(spec.Args, "--backend-store-uri", postgresDatabase(t))
		// The first start migrates a new PostgreSQL schema: slower than SQLite.
		spec.Timeout = 4 * time.Minute
	default:
		t.Fatalf("testenv: unknown MLflow backend %q", o.Backend)
	}
	if o.AdminUser != "" {
		ini := filepath.Join(dir, "basic_auth.ini")
		conf := fmt.Sprintf("[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///%s\nadmin_username = %s\nadmin_password = %s\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
			filepath.Join(dir, "basic_auth.db"), o.AdminUser, o.AdminPassword)
		if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		spec.Args = append(spec.Args, "--app-name", "basic-auth")
		spec.Env = append(spec.Env, "MLFLOW_AUTH_CONFIG_PATH="+ini, "MLFLOW_FLASK_SERVER_SECRET_KEY="+randomHex(16))
		// The readiness path answers without credentials.
	}
	p, err := localrun.StartProcess(context.Background(), spec, dir)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { p.Stop(10 * time.Second) }) }
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			data, _ := os.ReadFile(p.LogPath)
			if len(data) > 4000 {
				data = data[len(data)-4000:]
			}
			t.Logf("tail of the MLflow log:\n%s", data)
		}
	})
	return p.URL, stop
}

func setArg(args []string, flag, value string) {
	for i := range args[:len(args)-1] {
		if args[i] == flag {
			args[i+1] = value
			return
		}
	}
	panic("testenv: no " + flag + " in the MLflow command")
}

// postgresDatabase creates a fresh database on the server PostgresEnv
// names, drops it when the test ends, and returns its SQLAlchemy URI.
func postgresDatabase(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(PostgresEnv)
	if raw == "" {
		Require(t, "no PostgreSQL server: set %s=postgresql://user:password@127.0.0.1:5432/ (.ci/run starts one)", PostgresEnv)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgresql" && u.Scheme != "postgres") {
		t.Fatalf("testenv: %s is not a postgresql:// URL", PostgresEnv)
	}
	name := "claimrisk_test_" + randomHex(6)
	admin := *u
	admin.Scheme, admin.Path = "postgresql", "/postgres"
	psql := func(stmt string) error {
		cmd := exec.Command(Python(t), "-c", `import sys, psycopg2
c = psycopg2.connect(sys.argv[1])
c.autocommit = True
c.cursor().execute(sys.argv[2])`, admin.String(), stmt)
		if out, err := cmd.CombinedOutput(); err != nil {
			// The message may hold the URL; say what failed without it.
			return fmt.Errorf("%s: %v: %s", strings.Fields(stmt)[0], err, lastLine(string(out)))
		}
		return nil
	}
	if err := psql("CREATE DATABASE " + name); err != nil {
		t.Fatalf("testenv: PostgreSQL at %s: %v", u.Host, err)
	}
	t.Cleanup(func() {
		if err := psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	db := *u
	db.Scheme, db.Path = "postgresql+psycopg2", "/"+name
	return db.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
