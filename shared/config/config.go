// Package config declares each function's configuration as an envconfig
// struct: one place that names every environment variable, its default and
// its meaning. The functions read it once, in Start; the docs' configuration
// reference is generated from these structs.
package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/kelseyhightower/envconfig"

	"github.com/claimrisk/claimrisk/shared/pseudonym"
)

// DefaultBucket is the bucket the CLI, `make demo` and the local runtime
// share when CLAIMRISK_BUCKET is not set: ~/.claimrisk/bucket.
func DefaultBucket() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = os.TempDir()
	}
	return filepath.Join(home, ".claimrisk", "bucket")
}

// Common is what every function reads.
type Common struct {
	Bucket         string `envconfig:"CLAIMRISK_BUCKET" desc:"bucket URL of the model and metric store (file://, mem://, s3://, gs://, azblob://, or a directory); default ~/.claimrisk/bucket"`
	MLflowURI      string `envconfig:"MLFLOW_TRACKING_URI" desc:"MLflow tracking server; empty to skip MLflow"`
	MLflowUser     string `envconfig:"MLFLOW_TRACKING_USERNAME" desc:"MLflow basic-auth user"`
	MLflowPassword string `envconfig:"MLFLOW_TRACKING_PASSWORD" desc:"MLflow basic-auth password"`
	PseudonymKey   string `envconfig:"CLAIMRISK_PSEUDONYM_KEY" desc:"key of the keyed hash that pseudonymises customer and policy ids (at least 16 characters); a development key when empty"`
	CodeVersion    string `envconfig:"CLAIMRISK_CODE_VERSION" desc:"code version recorded with runs; defaults to the version built into the binary"`
	LogLevel       string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
}

// Train configures functions/train.
type Train struct {
	Common
	L2 float64 `envconfig:"CLAIMRISK_L2" default:"1" desc:"L2 penalty of the GLMs (scikit-learn's 1/C)"`
}

// Load fills spec from the environment and completes the common defaults.
func Load(spec any) error {
	if err := envconfig.Process("", spec); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if c, ok := spec.(interface{ common() *Common }); ok {
		cm := c.common()
		if cm.Bucket == "" {
			cm.Bucket = DefaultBucket()
		}
		if cm.PseudonymKey == "" {
			cm.PseudonymKey = pseudonym.DevKey
		}
		if cm.LogLevel == "" {
			cm.LogLevel = "info"
		}
	}
	return nil
}

func (c *Common) common() *Common { return c }

// Usage prints the variables of spec as a table.
func Usage(w io.Writer, spec any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	format := "{{range .}}{{usage_key .}}\t{{usage_default .}}\t{{usage_description .}}\n{{end}}"
	if err := envconfig.Usagef("", spec, tw, format); err != nil {
		return fmt.Errorf("config: usage: %w", err)
	}
	return tw.Flush()
}
