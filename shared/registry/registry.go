package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/metrics"
	"github.com/claimrisk/claimrisk/shared/model"
)

// Aliases the registry knows.
const (
	Champion   = "champion"
	Challenger = "challenger"
)

// Errors callers match with errors.Is.
var (
	ErrNoVersion = errors.New("registry: no such version")
	ErrNoAlias   = errors.New("registry: alias not set")
	ErrConflict  = errors.New("registry: another writer moved an alias first")
	ErrBadAlias  = errors.New("registry: unknown alias")
)

// Lineage ties a version to its data and code.
type Lineage struct {
	RunID       string          `json:"run_id"`
	DatasetID   string          `json:"dataset_id"`
	Fingerprint string          `json:"data_fingerprint"`
	TrainWindow features.Window `json:"train_window"`
	ValidWindow features.Window `json:"valid_window"`
	CodeVersion string          `json:"code_version"`
	// Validation is the bucket key of the labelled out-of-time rows.
	Validation string `json:"validation_key"`
	// Reference is the bucket key of the version's reference rows: a
	// fixed-size sample of its training data, stratified by policy year,
	// stored with the version at registration. The drift check and the
	// Evidently job compare traffic with it. Empty for versions registered
	// before references were stored (their validation rows serve instead).
	Reference   string `json:"reference_key,omitempty"`
	MLflowRunID string `json:"mlflow_run_id,omitempty"`
}

// Version is one registered model version. It never changes once written.
type Version struct {
	Model       string            `json:"model"`
	Version     int               `json:"version"`
	Created     time.Time         `json:"created"`
	CreatedBy   string            `json:"created_by"`
	Kind        string            `json:"kind"`
	Description string            `json:"description"`
	Tags        map[string]string `json:"tags"`
	Lineage     Lineage           `json:"lineage"`
	Metrics     metrics.Summary   `json:"metrics"`
	// ModelObject is the stored model itself, so a version does not depend
	// on the run it came from being kept.
	ModelObject json.RawMessage `json:"model_object"`
}

// LoadModel decodes the version's model.
func (v Version) LoadModel() (*model.Model, error) {
	m, err := model.Decode(v.ModelObject)
	if err != nil {
		return nil, fmt.Errorf("registry: %s v%d: %w", v.Model, v.Version, err)
	}
	return m, nil
}

// Move is one entry of the audit log: an alias set to a version, or
// removed (Version 0).
type Move struct {
	Seq      int       `json:"seq"`
	Time     time.Time `json:"time"`
	Alias    string    `json:"alias"`
	Version  int       `json:"version"`
	Previous int       `json:"previous"`
	Actor    string    `json:"actor"`
	Reason   string    `json:"reason"`
}

// Decision records why a version was promoted or not.
type Decision struct {
	Version           int              `json:"version"`
	Time              time.Time        `json:"time"`
	Promoted          bool             `json:"promoted"`
	Reason            string           `json:"reason"`
	Actor             string           `json:"actor"`
	ChampionVersion   int              `json:"champion_version,omitempty"`
	ChallengerMetrics metrics.Summary  `json:"challenger_metrics"`
	ChampionMetrics   *metrics.Summary `json:"champion_metrics,omitempty"`
}

// Registry is one registered model in a bucket.
type Registry struct {
	b    *blobstore.Bucket
	name string
	// LeaseTimeout is how long a registration claim holds before another
	// writer may take it over (a writer that crashed midway).
	LeaseTimeout time.Duration
	// ClaimWait is how long a writer waits for another's registration of
	// the same run to finish.
	ClaimWait time.Duration
}

// Open returns the registry of the named model.
func Open(b *blobstore.Bucket, name string) *Registry {
	return &Registry{b: b, name: name, LeaseTimeout: time.Minute, ClaimWait: 15 * time.Second}
}

// Name is the registered model's name.
func (r *Registry) Name() string { return r.name }

// Bucket is the bucket the registry lives in.
func (r *Registry) Bucket() *blobstore.Bucket { return r.b }

func (r *Registry) key(parts ...string) string {
	return "registry/" + r.name + "/" + strings.Join(parts, "/")
}

func versionDir(v int) string { return fmt.Sprintf("%06d", v) }

func (r *Registry) versionKey(v int) string { return r.key("versions", versionDir(v), "version.json") }
func (r *Registry) decisionKey(v int) string {
	return r.key("versions", versionDir(v), "decision.json")
}

// Versions lists the version numbers, ascending.
//
// A version exists once its version.json does: a writer killed while it
// created one can leave the version's folder with only a write in
// progress in it (a file bucket's temporary file), which is no version and
// does not use up the number.
func (r *Registry) Versions(ctx context.Context) ([]int, error) {
	prefix := r.key("versions") + "/"
	keys, err := r.b.Keys(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("registry: list versions: %w", err)
	}
	var out []int
	for _, k := range keys {
		dir, name, ok := strings.Cut(strings.TrimPrefix(k, prefix), "/")
		if !ok || name != "version.json" {
			continue
		}
		if n, err := strconv.Atoi(dir); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Get reads one version.
func (r *Registry) Get(ctx context.Context, v int) (Version, error) {
	var ver Version
	if err := r.b.ReadJSON(ctx, r.versionKey(v), &ver); err != nil {
		if errors.Is(err, blobstore.ErrNotFound) {
			return Version{}, fmt.Errorf("%w: %s v%d", ErrNoVersion, r.name, v)
		}
		return Version{}, fmt.Errorf("registry: read %s v%d: %w", r.name, v, err)
	}
	return ver, nil
}

// All reads every version, ascending.
func (r *Registry) All(ctx context.Context) ([]Version, error) {
	nums, err := r.Versions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Version, 0, len(nums))
	for _, n := range nums {
		v, err := r.Get(ctx, n)
		if errors.Is(err, ErrNoVersion) {
			continue // a directory without version.json: nothing was registered there
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// FindRun returns the version registered from a run, if any.
func (r *Registry) FindRun(ctx context.Context, runID string) (Version, bool, error) {
	all, err := r.All(ctx)
	if err != nil {
		return Version{}, false, err
	}
	for _, v := range all {
		if v.Lineage.RunID == runID {
			return v, true, nil
		}
	}
	return Version{}, false, nil
}

// Candidate is what a registration needs to know about a run.
type Candidate struct {
	Kind        string
	Lineage     Lineage
	Metrics     metrics.Summary
	ModelObject []byte
	Description string
	Tags        map[string]string
	Actor       string
	// Reference, when set, is the Parquet of the run's reference sample:
	// it is stored with the version (ReferenceKey) and named in its lineage.
	Reference []byte
}

// Register adds the candidate as a new version, or returns the version
// already registered from the same run: registering twice is registering
// once. created says whether this call made the version.
func (r *Registry) Register(ctx context.Context, c Candidate) (ver Version, created bool, err error) {
	if c.Lineage.RunID == "" {
		return Version{}, false, fmt.Errorf("registry: register: the candidate has no run id")
	}
	if _, err := model.Decode(c.ModelObject); err != nil {
		return Version{}, false, fmt.Errorf("registry: register run %s: %w", c.Lineage.RunID, err)
	}
	if v, ok, err := r.FindRun(ctx, c.Lineage.RunID); err != nil || ok {
		return v, false, err
	}
	if err := r.ensureModel(ctx); err != nil {
		return Version{}, false, err
	}
	won, err := r.claim(ctx, c.Lineage.RunID)
	if err != nil {
		return Version{}, false, err
	}
	if !won {
		// Another writer registered the run while we waited.
		v, ok, err := r.FindRun(ctx, c.Lineage.RunID)
		if err != nil {
			return Version{}, false, err
		}
		if ok {
			return v, false, nil
		}
		return Version{}, false, fmt.Errorf("registry: run %s is being registered by another writer; try again later", c.Lineage.RunID)
	}
	nums, err := r.Versions(ctx)
	if err != nil {
		return Version{}, false, err
	}
	next := 1
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	for {
		ver = Version{
			Model: r.name, Version: next, Created: time.Now().UTC(), CreatedBy: c.Actor, Kind: c.Kind,
			Description: c.Description, Tags: c.Tags, Lineage: c.Lineage, Metrics: c.Metrics, ModelObject: c.ModelObject,
		}
		if len(c.Reference) > 0 {
			ver.Lineage.Reference = r.ReferenceKey(next)
		}
		err := r.b.CreateJSON(ctx, r.versionKey(next), ver)
		if err == nil {
			// The number is ours now; the reference goes beside it. A failure
			// here leaves the version without it until PutReference heals it.
			if err := r.PutReference(ctx, ver, c.Reference); err != nil {
				return Version{}, false, err
			}
			return ver, true, nil
		}
		if !errors.Is(err, blobstore.ErrExists) {
			return Version{}, false, fmt.Errorf("registry: register run %s: %w", c.Lineage.RunID, err)
		}
		next++ // another writer took this number
	}
}

// ReferenceKey is where version v's reference rows are stored.
func (r *Registry) ReferenceKey(v int) string {
	return r.key("versions", versionDir(v), "reference.parquet")
}

// PutReference stores a version's reference rows at the key its lineage
// names, unless they are already there: a registration that stopped
// between the version and its reference is completed by the next delivery.
func (r *Registry) PutReference(ctx context.Context, v Version, data []byte) error {
	if v.Lineage.Reference == "" || len(data) == 0 {
		return nil
	}
	ok, err := r.b.Exists(ctx, v.Lineage.Reference)
	if err != nil || ok {
		return err
	}
	if err := r.b.Write(ctx, v.Lineage.Reference, data, "application/vnd.apache.parquet"); err != nil {
		return fmt.Errorf("registry: reference of %s v%d: %w", r.name, v.Version, err)
	}
	return nil
}

func (r *Registry) ensureModel(ctx context.Context) error {
	err := r.b.CreateJSON(ctx, r.key("model.json"), map[string]any{
		"name":        r.name,
		"description": "Probability that a policy has at least one claim in its policy year.",
		"created":     time.Now().UTC(),
	})
	if err != nil && !errors.Is(err, blobstore.ErrExists) {
		return fmt.Errorf("registry: create %s: %w", r.name, err)
	}
	return nil
}

type claimRecord struct {
	Owner string    `json:"owner"`
	Time  time.Time `json:"time"`
}

// claim takes the right to register runID. It returns false when another
// writer holds it and finished (or still holds it) within ClaimWait.
func (r *Registry) claim(ctx context.Context, runID string) (bool, error) {
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	owner := hex.EncodeToString(token)
	prefix := r.key("claims", runID) + "/"
	deadline := time.Now().Add(r.ClaimWait)
	for {
		keys, err := r.b.Keys(ctx, prefix)
		if err != nil {
			return false, fmt.Errorf("registry: claim %s: %w", runID, err)
		}
		attempt := len(keys) + 1
		if len(keys) > 0 {
			var last claimRecord
			if err := r.b.ReadJSON(ctx, keys[len(keys)-1], &last); err != nil {
				return false, fmt.Errorf("registry: claim %s: %w", runID, err)
			}
			if _, ok, err := r.FindRun(ctx, runID); err != nil || ok {
				return false, err
			}
			if time.Since(last.Time) < r.LeaseTimeout {
				if time.Now().After(deadline) {
					return false, nil
				}
				select {
				case <-ctx.Done():
					return false, ctx.Err()
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			// The holder's lease ran out without a version: take over.
		}
		err = r.b.CreateJSON(ctx, fmt.Sprintf("%s%04d.json", prefix, attempt), claimRecord{Owner: owner, Time: time.Now().UTC()})
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, blobstore.ErrExists) {
			return false, fmt.Errorf("registry: claim %s: %w", runID, err)
		}
	}
}
