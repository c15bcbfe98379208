package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/claimrisk/claimrisk/shared/mlflow"
)

// Tag names the mirror sets on MLflow model versions.
const (
	TagVersion      = "claimrisk.version"
	TagRunID        = "claimrisk.run_id"
	TagDecision     = "claimrisk.decision"
	TagReason       = "claimrisk.reason"
	TagFactsheet    = "claimrisk.factsheet"
	TagFactsheetSHA = "claimrisk.factsheet_sha256"
)

// Mirror copies the registry into MLflow's model registry. The bucket is
// the source of truth: Sync creates the versions MLflow lacks, in order,
// and points MLflow's aliases where the bucket's point. It is idempotent,
// so running it after an outage heals the mirror.
type Mirror struct {
	Client   *mlflow.Client
	Registry *Registry
	// MLflowRun returns the MLflow run id of a training run, logging the
	// run to MLflow first if it never was; a version links to its run.
	MLflowRun func(ctx context.Context, runID string) (string, error)
}

// SyncReport says what a sync changed.
type SyncReport struct {
	Created      []int          // bucket versions newly created in MLflow
	AliasesSet   map[string]int // alias -> bucket version
	AliasesClear []string
}

// Sync brings MLflow's registry in line with the bucket's.
func (m *Mirror) Sync(ctx context.Context) (SyncReport, error) {
	rep := SyncReport{AliasesSet: map[string]int{}}
	name := m.Registry.Name()
	if err := m.Client.EnsureRegisteredModel(ctx, name, "Probability that a policy has at least one claim in its policy year. Mirrored from the claimrisk registry in the bucket.", nil); err != nil {
		return rep, fmt.Errorf("registry: mirror: %w", err)
	}
	existing, err := m.Client.SearchModelVersions(ctx, name)
	if err != nil {
		return rep, fmt.Errorf("registry: mirror: %w", err)
	}
	mlflowOf := map[int]mlflow.ModelVersion{}
	for _, mv := range existing {
		for _, t := range mv.Tags {
			if t.Key == TagVersion {
				if v, err := strconv.Atoi(t.Value); err == nil {
					mlflowOf[v] = mv
				}
			}
		}
	}
	versions, err := m.Registry.All(ctx)
	if err != nil {
		return rep, err
	}
	for _, v := range versions {
		mv, ok := mlflowOf[v.Version]
		if !ok {
			if mv, err = m.create(ctx, v); err != nil {
				return rep, err
			}
			mlflowOf[v.Version] = mv
			rep.Created = append(rep.Created, v.Version)
		}
		if err := m.attachFactsheet(ctx, v.Version, mv); err != nil {
			return rep, err
		}
		if d, err := m.Registry.Decision(ctx, v.Version); err == nil {
			outcome := "rejected"
			if d.Promoted {
				outcome = "promoted"
			}
			if tagOf(mv, TagDecision) != outcome || tagOf(mv, TagReason) != d.Reason {
				if err := m.Client.SetModelVersionTag(ctx, name, mv.Version, TagDecision, outcome); err != nil {
					return rep, fmt.Errorf("registry: mirror v%d: %w", v.Version, err)
				}
				if err := m.Client.SetModelVersionTag(ctx, name, mv.Version, TagReason, d.Reason); err != nil {
					return rep, fmt.Errorf("registry: mirror v%d: %w", v.Version, err)
				}
			}
		}
	}
	state, err := m.Registry.Aliases(ctx)
	if err != nil {
		return rep, err
	}
	rm, err := m.Client.GetRegisteredModel(ctx, name)
	if err != nil {
		return rep, fmt.Errorf("registry: mirror aliases: %w", err)
	}
	current := map[string]string{}
	for _, a := range rm.Aliases {
		current[a.Alias] = a.Version
	}
	for _, alias := range []string{Champion, Challenger} {
		want, set := state.Aliases[alias]
		has, cur := current[alias] != "", current[alias]
		switch {
		case set && cur != mlflowOf[want].Version:
			n, _ := strconv.Atoi(mlflowOf[want].Version)
			if err := m.Client.SetAlias(ctx, name, alias, n); err != nil {
				return rep, fmt.Errorf("registry: mirror alias %s: %w", alias, err)
			}
			rep.AliasesSet[alias] = want
		case !set && has:
			if err := m.Client.DeleteAlias(ctx, name, alias); err != nil {
				return rep, fmt.Errorf("registry: mirror alias %s: %w", alias, err)
			}
			rep.AliasesClear = append(rep.AliasesClear, alias)
		}
	}
	return rep, nil
}

// attachFactsheet uploads a version's factsheet (Markdown and HTML) as
// artifacts of its MLflow run and points a version tag at it, whenever the
// factsheet changed since the last sync.
func (m *Mirror) attachFactsheet(ctx context.Context, v int, mv mlflow.ModelVersion) error {
	md, err := m.Registry.Factsheet(ctx, v, "md")
	if errors.Is(err, ErrNoVersion) || mv.RunID == "" {
		return nil // no factsheet yet, or no run to attach it to
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(md)
	sha := hex.EncodeToString(sum[:])
	if tagOf(mv, TagFactsheetSHA) == sha {
		return nil
	}
	run, err := m.Client.GetRun(ctx, mv.RunID)
	if err != nil {
		return fmt.Errorf("registry: mirror factsheet of v%d: %w", v, err)
	}
	html, err := m.Registry.Factsheet(ctx, v, "html")
	if err != nil {
		return err
	}
	base := fmt.Sprintf("factsheets/%s-v%d", m.Registry.Name(), v)
	for ext, data := range map[string][]byte{".md": md, ".html": html} {
		if err := m.Client.LogArtifact(ctx, run.Info, base+ext, data); err != nil {
			return fmt.Errorf("registry: mirror factsheet of v%d: %w", v, err)
		}
	}
	if err := m.Client.SetModelVersionTag(ctx, m.Registry.Name(), mv.Version, TagFactsheet, mlflow.ArtifactSource(run.Info, base+".md")); err != nil {
		return fmt.Errorf("registry: mirror factsheet of v%d: %w", v, err)
	}
	return m.Client.SetModelVersionTag(ctx, m.Registry.Name(), mv.Version, TagFactsheetSHA, sha)
}

func tagOf(mv mlflow.ModelVersion, key string) string {
	for _, t := range mv.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

func (m *Mirror) create(ctx context.Context, v Version) (mlflow.ModelVersion, error) {
	// The version names the MLflow run of its registration. When there was
	// none (MLflow was down), or MLflow no longer holds it (its store was
	// replaced), the training run is logged to MLflow now.
	run, held, err := m.Client.LookupRun(ctx, v.Lineage.MLflowRunID)
	if err == nil && !held {
		var runID string
		if runID, err = m.MLflowRun(ctx, v.Lineage.RunID); err != nil {
			return mlflow.ModelVersion{}, fmt.Errorf("registry: mirror v%d: log its run %s to MLflow: %w", v.Version, v.Lineage.RunID, err)
		}
		run, err = m.Client.GetRun(ctx, runID)
	}
	if err != nil {
		return mlflow.ModelVersion{}, fmt.Errorf("registry: mirror v%d: %w", v.Version, err)
	}
	source := mlflow.ArtifactSource(run.Info, "model")
	tags := []mlflow.Tag{
		{Key: TagVersion, Value: strconv.Itoa(v.Version)},
		{Key: TagRunID, Value: v.Lineage.RunID},
		{Key: "data_fingerprint", Value: v.Lineage.Fingerprint},
		{Key: "model_kind", Value: v.Kind},
		{Key: "code_version", Value: v.Lineage.CodeVersion},
	}
	for k, val := range v.Tags {
		tags = append(tags, mlflow.Tag{Key: k, Value: val})
	}
	mv, err := m.Client.CreateModelVersion(ctx, m.Registry.Name(), source, run.Info.RunID, v.Description, tags)
	if err != nil {
		return mlflow.ModelVersion{}, fmt.Errorf("registry: mirror v%d: %w", v.Version, err)
	}
	return mv, nil
}
