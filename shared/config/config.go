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
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/claimrisk/claimrisk/shared/logging"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
)

// Home is where the local runtime keeps its bucket, logs and MLflow data:
// CLAIMRISK_HOME, else ~/.claimrisk.
func Home() string {
	if h := os.Getenv("CLAIMRISK_HOME"); h != "" {
		return h
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = os.TempDir()
	}
	return filepath.Join(home, ".claimrisk")
}

// DefaultBucket is the bucket the CLI, `make demo` and the local runtime
// share when CLAIMRISK_BUCKET is not set: the bucket directory in Home.
func DefaultBucket() string { return filepath.Join(Home(), "bucket") }

// Common is what every function reads.
type Common struct {
	Bucket         string `envconfig:"CLAIMRISK_BUCKET" desc:"bucket URL of the model and metric store (file://, mem://, s3://, gs://, azblob://, or a directory); default ~/.claimrisk/bucket"`
	MLflowURI      string `envconfig:"MLFLOW_TRACKING_URI" desc:"MLflow tracking server; empty to skip MLflow"`
	MLflowUser     string `envconfig:"MLFLOW_TRACKING_USERNAME" desc:"MLflow basic-auth user"`
	MLflowPassword string `envconfig:"MLFLOW_TRACKING_PASSWORD" desc:"MLflow basic-auth password"`
	PseudonymKey   string `envconfig:"CLAIMRISK_PSEUDONYM_KEY" desc:"key of the keyed hash that pseudonymises customer and policy ids (at least 16 characters); a development key when empty"`
	EventKey       string `envconfig:"CLAIMRISK_EVENT_KEY" desc:"shared key that signs and verifies events between claimrisk's producers and functions; empty turns event authentication off"`
	CodeVersion    string `envconfig:"CLAIMRISK_CODE_VERSION" desc:"code version recorded with runs; defaults to the version built into the binary"`
	LogLevel       string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error (any case), optionally with an offset such as warn+2; anything else fails the function's start"`
}

// Train configures functions/train.
type Train struct {
	Common
	L2            float64 `envconfig:"CLAIMRISK_L2" default:"1" desc:"L2 penalty of the GLMs (scikit-learn's 1/C)"`
	ReferenceRows int     `envconfig:"CLAIMRISK_REFERENCE_ROWS" default:"5000" desc:"size of the reference stored with each model: a sample of its training data stratified by policy year, which drift checks and the Evidently job compare traffic with"`
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
		if _, err := logging.ParseLevel(cm.LogLevel); err != nil {
			return fmt.Errorf("config: LOG_LEVEL: %w", err)
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

// Register configures functions/register: the promotion gate.
type Register struct {
	Common
	Margin              float64       `envconfig:"CLAIMRISK_PROMOTION_MARGIN" default:"0.005" desc:"how much higher a challenger's out-of-time Gini must be than the champion's"`
	LogLossMargin       float64       `envconfig:"CLAIMRISK_PROMOTION_LOG_LOSS_MARGIN" default:"0.01" desc:"relative log-loss improvement that wins when the Gini stays within the tolerance"`
	GiniTolerance       float64       `envconfig:"CLAIMRISK_PROMOTION_GINI_TOLERANCE" default:"0.03" desc:"how far below the champion's Gini a challenger that wins on log loss may rank"`
	MinAUC              float64       `envconfig:"CLAIMRISK_MIN_AUC" default:"0.6" desc:"floor on a challenger's out-of-time AUC"`
	MinGini             float64       `envconfig:"CLAIMRISK_MIN_GINI" default:"0.2" desc:"floor on a challenger's out-of-time Gini"`
	MaxCalibrationError float64       `envconfig:"CLAIMRISK_MAX_CALIBRATION_ERROR" default:"0.02" desc:"largest allowed gap between mean prediction and observed claim rate"`
	MinSliceGini        float64       `envconfig:"CLAIMRISK_MIN_SLICE_GINI" default:"0.1" desc:"floor on the Gini of every slice (age band, area accident level, vehicle usage) with at least CLAIMRISK_MIN_SLICE_ROWS policies"`
	MinSliceRows        int           `envconfig:"CLAIMRISK_MIN_SLICE_ROWS" default:"500" desc:"size from which a slice's Gini must clear the floor"`
	LargeSliceRows      int           `envconfig:"CLAIMRISK_LARGE_SLICE_ROWS" default:"1000" desc:"size from which a slice must rank at least as well as the legacy formula"`
	FairnessLower       float64       `envconfig:"CLAIMRISK_FAIRNESS_LOWER" default:"0.8" desc:"lowest allowed disparate impact (mean prediction of women over men)"`
	FairnessUpper       float64       `envconfig:"CLAIMRISK_FAIRNESS_UPPER" default:"1.25" desc:"highest allowed disparate impact"`
	ReconcileAfter      time.Duration `envconfig:"CLAIMRISK_RECONCILE_AFTER" default:"2m" desc:"on the dataset scan's cron event, a finished training without a decision is judged once its last run is this old (its own event may still be on the way before)"`
	ShadowMinLabels     int           `envconfig:"CLAIMRISK_SHADOW_MIN_LABELS" default:"500" desc:"fewest shadow answers with an outcome before the shadow schedule's event judges the challenger on them"`
}

// Predict configures functions/predict: the prediction API.
type Predict struct {
	Common
	MaxRecords   int           `envconfig:"CLAIMRISK_MAX_RECORDS" default:"1000" desc:"largest batch of records in one request"`
	MaxBodyBytes int64         `envconfig:"CLAIMRISK_MAX_BODY_BYTES" default:"1048576" desc:"largest request body in bytes"`
	PollInterval time.Duration `envconfig:"CLAIMRISK_POLL_INTERVAL" default:"15s" desc:"how often the champion alias is checked, besides model promoted events"`
	LogBatchRows int           `envconfig:"CLAIMRISK_LOG_BATCH_ROWS" default:"5000" desc:"payload log: rows per object"`
	LogMaxAge    time.Duration `envconfig:"CLAIMRISK_LOG_MAX_AGE" default:"10s" desc:"payload log: longest a row waits before it is written (give drift the same value)"`
	Instance     string        `envconfig:"HOSTNAME" desc:"name of this replica in payload log object keys (the pod name on Kubernetes)"`
	Shadow       bool          `envconfig:"CLAIMRISK_SHADOW" default:"true" desc:"score the registry's challenger in shadow when there is one: answers come from the champion alone, and both models' answers are logged (predlog/shadow/) for the register function to judge the challenger once outcomes arrive"`
	APIToken     string        `envconfig:"CLAIMRISK_API_TOKEN" desc:"bearer token the API requires on /v1/ (health, metrics and the API description stay open); empty turns authentication off"`
	RequireToken bool          `envconfig:"CLAIMRISK_REQUIRE_API_TOKEN" default:"false" desc:"refuse to start without CLAIMRISK_API_TOKEN (set on every cluster), so the API is never open by mistake"`
}

// Drift configures functions/drift: the scheduled drift check.
type Drift struct {
	Common
	Window            time.Duration      `envconfig:"CLAIMRISK_DRIFT_WINDOW" default:"24h" desc:"the longest window one check reads: the predictions since the last check's window ended, but no further back than this"`
	LogMaxAge         time.Duration      `envconfig:"CLAIMRISK_LOG_MAX_AGE" default:"10s" desc:"the predict function's payload-log flush interval: a check waits this long, plus CLAIMRISK_LOG_SLACK, after its window ends before it reads the log"`
	LogSlack          time.Duration      `envconfig:"CLAIMRISK_LOG_SLACK" default:"3s" desc:"how much longer than CLAIMRISK_LOG_MAX_AGE a check waits for the payload log's last batch to be written"`
	MinRows           int                `envconfig:"CLAIMRISK_DRIFT_MIN_ROWS" default:"200" desc:"fewest logged predictions in the window for a verdict"`
	DriftShare        float64            `envconfig:"CLAIMRISK_DRIFT_SHARE" default:"0.3" desc:"share of drifted feature columns at which the data counts as drifted; the Evidently job is given the same (monitoring/contract.py DATASET_DRIFT_SHARE is its default)"`
	WeightFloor       float64            `envconfig:"CLAIMRISK_DRIFT_WEIGHT_FLOOR" default:"0.02" desc:"weight from which one drifted feature raises the alarm by itself; a feature's weight is its share of the variance of the champion's logit on the reference"`
	FeatureRules      map[string]string  `envconfig:"CLAIMRISK_DRIFT_FEATURE_RULES" desc:"per-feature rules as feature:rule pairs, comma-separated (rule auto: alert at or above the weight floor; alert: always; share: only counts toward the dataset share), e.g. home_area:alert,deductible:share"`
	FeatureWeights    map[string]float64 `envconfig:"CLAIMRISK_DRIFT_FEATURE_WEIGHTS" desc:"per-feature weights (0 to 1) that replace the model's, as feature:weight pairs, e.g. age:0.3"`
	MinLabels         int                `envconfig:"CLAIMRISK_DRIFT_MIN_LABELS" default:"200" desc:"fewest labelled predictions for the quality checks, of the window checked and of each earlier window whose outcomes arrive late"`
	LabelHorizon      time.Duration      `envconfig:"CLAIMRISK_DRIFT_LABEL_HORIZON" default:"9600h" desc:"how long after a window its late outcomes are still joined to its predictions (claims of a policy year arrive within about 400 days)"`
	MaxAUCDrop        float64            `envconfig:"CLAIMRISK_DRIFT_MAX_AUC_DROP" default:"0.05" desc:"largest allowed fall of AUC below the champion's validation AUC"`
	MaxCalibrationGap float64            `envconfig:"CLAIMRISK_DRIFT_MAX_CALIBRATION_GAP" default:"0.02" desc:"largest allowed gap between mean prediction and observed claim rate"`
	FairnessLower     float64            `envconfig:"CLAIMRISK_FAIRNESS_LOWER" default:"0.8" desc:"lowest disparate impact (mean prediction of women over men) before a fairness alert"`
	FairnessUpper     float64            `envconfig:"CLAIMRISK_FAIRNESS_UPPER" default:"1.25" desc:"highest disparate impact before a fairness alert"`
}
