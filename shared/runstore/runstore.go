package runstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/flatparquet"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
)

// Prefix is where runs live.
const Prefix = "runs/"

// Object names inside a run.
const (
	RunObject         = "run.json"
	ModelObject       = "model.json"
	MetricsObject     = "metrics.json"
	FeaturesObject    = "features.json"
	ValidationObject  = "validation.parquet"
	ReferenceObject   = "reference.parquet"
	CalibrationObject = "calibration.png"
	ROCObject         = "roc.png"
	LorenzObject      = "lorenz.png"
	// MLflowClaimObject names the run's one MLflow run; it is created once,
	// never overwritten (training.Tracker).
	MLflowClaimObject = "mlflow-run.json"
)

// Key is the bucket key of an object of a run.
func Key(runID, object string) string { return Prefix + runID + "/" + object }

// Run is the record of a finished training run.
type Run struct {
	ID          string          `json:"run_id"`
	Kind        string          `json:"kind"`
	Created     time.Time       `json:"created"`
	DatasetID   string          `json:"dataset_id"`
	Fingerprint string          `json:"fingerprint"`
	TrainWindow features.Window `json:"train_window"`
	ValidWindow features.Window `json:"valid_window"`
	TrainRows   int             `json:"train_rows"`
	ValidRows   int             `json:"valid_rows"`
	L2          float64         `json:"l2"`
	CodeVersion string          `json:"code_version"`
	Trigger     string          `json:"trigger"`
	// LabelledKey names the newly labelled rows a drift retraining added.
	LabelledKey string          `json:"labelled_key,omitempty"`
	FitSeconds  float64         `json:"fit_seconds"`
	Iterations  int             `json:"iterations"`
	Metrics     metrics.Summary `json:"metrics"`
	// MLflowRunID is set when the run was logged to MLflow.
	MLflowRunID string `json:"mlflow_run_id,omitempty"`
	// MLflowError says why it was not.
	MLflowError string `json:"mlflow_error,omitempty"`
}

// Metrics is metrics.json: the model on its training and validation data,
// and on the validation data's slices and groups.
type Metrics struct {
	Training   metrics.Summary      `json:"training"`
	Validation metrics.Summary      `json:"validation"`
	Slices     []governance.Slice   `json:"slices"`
	Fairness   *governance.Fairness `json:"fairness,omitempty"`
}

// FeatureInfo is features.json: each feature with its standardisation and
// coefficient, for people reading a run.
type FeatureInfo struct {
	Set       string          `json:"set"`
	Intercept float64         `json:"intercept"`
	Features  []FeatureDetail `json:"features"`
	AreasAsOf string          `json:"areas_as_of,omitempty"`
}

// FeatureDetail describes one feature.
type FeatureDetail struct {
	Name        string  `json:"name"`
	Center      float64 `json:"center"`
	Scale       float64 `json:"scale"`
	Coefficient float64 `json:"coefficient"`
}

// Describe builds the feature description of a model.
func Describe(m *model.Model) FeatureInfo {
	fi := FeatureInfo{Set: m.Features.Set, Intercept: m.Intercept, AreasAsOf: m.Features.AreasAsOf}
	for i, n := range m.Features.Names {
		fi.Features = append(fi.Features, FeatureDetail{Name: n, Center: m.Features.Center[i], Scale: m.Features.Scale[i], Coefficient: m.Coef[i]})
	}
	return fi
}

// Artifacts are the objects of a run other than run.json.
type Artifacts struct {
	Model      []byte
	Metrics    Metrics
	Features   FeatureInfo
	Validation []predlog.ReferenceRow
	// Reference is the sample of the training data that becomes the
	// registered version's reference.
	Reference []predlog.ReferenceRow
	Plots     map[string][]byte // by object name
}

// Store reads and writes runs in a bucket.
type Store struct{ b *blobstore.Bucket }

// New returns the run store of a bucket.
func New(b *blobstore.Bucket) *Store { return &Store{b: b} }

// Bucket is the store's bucket.
func (s *Store) Bucket() *blobstore.Bucket { return s.b }

// Save writes the artifacts, then run.json. Saving a run again overwrites
// it with the same content, so a repeated training is harmless.
func (s *Store) Save(ctx context.Context, r Run, a Artifacts) error {
	if err := s.b.Write(ctx, Key(r.ID, ModelObject), a.Model, "application/json"); err != nil {
		return fmt.Errorf("runstore: save %s: %w", r.ID, err)
	}
	if err := s.b.WriteJSON(ctx, Key(r.ID, MetricsObject), a.Metrics); err != nil {
		return fmt.Errorf("runstore: save %s: %w", r.ID, err)
	}
	if err := s.b.WriteJSON(ctx, Key(r.ID, FeaturesObject), a.Features); err != nil {
		return fmt.Errorf("runstore: save %s: %w", r.ID, err)
	}
	val, err := flatparquet.Encode(a.Validation)
	if err != nil {
		return fmt.Errorf("runstore: save %s: %w", r.ID, err)
	}
	if err := s.b.Write(ctx, Key(r.ID, ValidationObject), val, "application/vnd.apache.parquet"); err != nil {
		return fmt.Errorf("runstore: save %s: %w", r.ID, err)
	}
	if len(a.Reference) > 0 {
		ref, err := flatparquet.Encode(a.Reference)
		if err != nil {
			return fmt.Errorf("runstore: save %s: %w", r.ID, err)
		}
		if err := s.b.Write(ctx, Key(r.ID, ReferenceObject), ref, "application/vnd.apache.parquet"); err != nil {
			return fmt.Errorf("runstore: save %s: %w", r.ID, err)
		}
	}
	for name, png := range a.Plots {
		if err := s.b.Write(ctx, Key(r.ID, name), png, "image/png"); err != nil {
			return fmt.Errorf("runstore: save %s: %w", r.ID, err)
		}
	}
	return s.SaveRun(ctx, r)
}

// SaveRun writes run.json alone (after an MLflow id is added, say).
func (s *Store) SaveRun(ctx context.Context, r Run) error {
	if err := s.b.WriteJSON(ctx, Key(r.ID, RunObject), r); err != nil {
		return fmt.Errorf("runstore: save %s: %w", r.ID, err)
	}
	return nil
}

// ErrNotFound marks a run that does not exist or is unfinished.
var ErrNotFound = errors.New("runstore: run not found")

// Get reads a finished run.
func (s *Store) Get(ctx context.Context, id string) (Run, error) {
	var r Run
	if err := s.b.ReadJSON(ctx, Key(id, RunObject), &r); err != nil {
		if errors.Is(err, blobstore.ErrNotFound) {
			return Run{}, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return Run{}, fmt.Errorf("runstore: get %s: %w", id, err)
	}
	return r, nil
}

// Model loads a run's model.
func (s *Store) Model(ctx context.Context, id string) (*model.Model, error) {
	data, err := s.b.Read(ctx, Key(id, ModelObject))
	if err != nil {
		return nil, fmt.Errorf("runstore: model of %s: %w", id, err)
	}
	m, err := model.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("runstore: model of %s: %w", id, err)
	}
	return m, nil
}

// Metrics loads a run's metrics.json.
func (s *Store) Metrics(ctx context.Context, id string) (Metrics, error) {
	var m Metrics
	if err := s.b.ReadJSON(ctx, Key(id, MetricsObject), &m); err != nil {
		return Metrics{}, fmt.Errorf("runstore: metrics of %s: %w", id, err)
	}
	return m, nil
}

// Validation loads a run's labelled validation rows.
func (s *Store) Validation(ctx context.Context, id string) ([]predlog.ReferenceRow, error) {
	data, err := s.b.Read(ctx, Key(id, ValidationObject))
	if err != nil {
		return nil, fmt.Errorf("runstore: validation rows of %s: %w", id, err)
	}
	rows, err := parquetio.Decode[predlog.ReferenceRow](data)
	if err != nil {
		return nil, fmt.Errorf("runstore: validation rows of %s: %w", id, err)
	}
	return rows, nil
}

// List returns every finished run, newest first.
func (s *Store) List(ctx context.Context) ([]Run, error) {
	ids, err := s.b.Dirs(ctx, Prefix)
	if err != nil {
		return nil, fmt.Errorf("runstore: list: %w", err)
	}
	var runs []Run
	for _, id := range ids {
		r, err := s.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // unfinished
		}
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].Created.Equal(runs[j].Created) {
			return runs[i].Created.After(runs[j].Created)
		}
		return runs[i].ID < runs[j].ID
	})
	return runs, nil
}
