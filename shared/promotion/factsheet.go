package promotion

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"math"
	"sort"
	"time"

	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/governance"
	"github.com/claimrisk/claimrisk/shared/plots"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
)

// Factsheet assembles the factsheet of a version from the registry, its
// run and its dataset's manifest.
func Factsheet(ctx context.Context, reg *registry.Registry, runs *runstore.Store, v int) (governance.Factsheet, error) {
	ver, err := reg.Get(ctx, v)
	if err != nil {
		return governance.Factsheet{}, err
	}
	run, err := runs.Get(ctx, ver.Lineage.RunID)
	if err != nil {
		return governance.Factsheet{}, err
	}
	rm, err := runs.Metrics(ctx, run.ID)
	if err != nil {
		return governance.Factsheet{}, err
	}
	m, err := ver.LoadModel()
	if err != nil {
		return governance.Factsheet{}, err
	}
	f := governance.Factsheet{
		Model: ver.Model, Version: v, Kind: ver.Kind, Created: ver.Created, CreatedBy: ver.CreatedBy, Description: ver.Description,
		Purpose: governance.Purpose, IntendedUse: governance.IntendedUse, Limitations: governance.Limitations,
		RunID: run.ID, MLflowRunID: run.MLflowRunID, DatasetID: run.DatasetID, Fingerprint: run.Fingerprint,
		TrainFrom: run.TrainWindow.From, TrainTo: run.TrainWindow.To, TrainRows: run.TrainRows,
		ValidFrom: run.ValidWindow.From, ValidTo: run.ValidWindow.To, ValidRows: run.ValidRows,
		LabelledKey: run.LabelledKey, Trigger: run.Trigger, CodeVersion: run.CodeVersion, L2: run.L2, Intercept: m.Intercept,
		Validation: rm.Validation, Slices: rm.Slices, Fairness: rm.Fairness, Aliases: []string{}, Generated: time.Now().UTC(),
		AccidentSource: "unknown",
	}
	var man dataset.Manifest
	if err := reg.Bucket().ReadJSON(ctx, dataset.KeyOf(run.DatasetID, dataset.ManifestObject), &man); err == nil && man.AccidentSource != "" {
		f.AccidentSource = man.AccidentSource
	}
	for i, n := range m.Features.Names {
		f.Features = append(f.Features, governance.Feature{Name: n, Coefficient: m.Coef[i]})
	}
	f.History = append(f.History, governance.Event{Time: ver.Created, What: "registered", Actor: ver.CreatedBy, Reason: "from run " + run.ID})
	moves, err := reg.Log(ctx)
	if err != nil {
		return governance.Factsheet{}, err
	}
	state := map[string]int{}
	for _, mv := range moves {
		switch {
		case mv.Version == v:
			f.History = append(f.History, governance.Event{Time: mv.Time, What: "became " + mv.Alias, Actor: mv.Actor, Reason: mv.Reason})
		case mv.Previous == v:
			what := "stopped being " + mv.Alias
			if mv.Version != 0 {
				what = fmt.Sprintf("%s moved to v%d", mv.Alias, mv.Version)
			}
			f.History = append(f.History, governance.Event{Time: mv.Time, What: what, Actor: mv.Actor, Reason: mv.Reason})
		}
		if mv.Version == 0 {
			delete(state, mv.Alias)
		} else {
			state[mv.Alias] = mv.Version
		}
	}
	d, err := reg.Decision(ctx, v)
	switch {
	case err == nil:
		what := "rejected by the promotion gate"
		if d.Promoted {
			what = "promoted by the promotion gate"
		}
		f.History = append(f.History, governance.Event{Time: d.Time, What: what, Actor: d.Actor, Reason: d.Reason})
	case !errors.Is(err, registry.ErrNoVersion):
		return governance.Factsheet{}, err
	}
	sort.SliceStable(f.History, func(i, j int) bool { return f.History[i].Time.Before(f.History[j].Time) })
	for alias, n := range state {
		if n == v {
			f.Aliases = append(f.Aliases, alias)
		}
	}
	sort.Strings(f.Aliases)
	switch {
	case state[registry.Champion] == v:
		f.Status = "serving"
	case err == nil && !d.Promoted:
		f.Status = "rejected"
	case err == nil && d.Promoted:
		f.Status = "retired (was champion)"
	default:
		f.Status = "registered, awaiting a decision"
	}
	if err := production(ctx, reg, &f); err != nil {
		return governance.Factsheet{}, err
	}
	return f, nil
}

// WriteFactsheets renders and stores the factsheets of the given versions
// (0 and missing versions are skipped).
func WriteFactsheets(ctx context.Context, reg *registry.Registry, runs *runstore.Store, versions ...int) error {
	for _, v := range versions {
		if v <= 0 {
			continue
		}
		f, err := Factsheet(ctx, reg, runs, v)
		if errors.Is(err, registry.ErrNoVersion) || errors.Is(err, runstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("promotion: factsheet of v%d: %w", v, err)
		}
		md, err := f.Markdown()
		if err != nil {
			return err
		}
		html, err := f.HTML()
		if err != nil {
			return err
		}
		js, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return err
		}
		if err := reg.WriteFactsheet(ctx, v, map[string][]byte{"md": []byte(md), "html": []byte(html), "json": js}); err != nil {
			return err
		}
	}
	return nil
}

// production fills the factsheet's performance in production: the drift
// checks' window records of this version, and their plot.
func production(ctx context.Context, reg *registry.Registry, f *governance.Factsheet) error {
	all, err := driftcheck.Performance(ctx, reg.Bucket())
	if err != nil {
		return fmt.Errorf("promotion: performance of v%d: %w", f.Version, err)
	}
	var est, lo, hi, real []float64
	for _, w := range all {
		if w.ChampionVersion != f.Version {
			continue
		}
		pw := governance.ProductionWindow{Report: w.ReportID, WindowTo: w.WindowTo, Rows: w.Rows, LabelledRows: w.LabelledRows}
		e, l, h, r := math.NaN(), math.NaN(), math.NaN(), math.NaN()
		if w.Estimate != nil {
			e, l, h = w.Estimate.AUC, w.Estimate.AUCLower, w.Estimate.AUCUpper
			pw.EstimatedAUC, pw.Lower, pw.Upper, pw.Alarm = &e, &l, &h, w.Estimate.Alarm
		}
		if w.Realised != nil && w.Realised.AUC != nil {
			r = *w.Realised.AUC
			pw.RealisedAUC = &r
		}
		f.Production = append(f.Production, pw)
		est, lo, hi, real = append(est, e), append(lo, l), append(hi, h), append(real, r)
	}
	if len(f.Production) == 0 {
		return nil
	}
	png, err := plots.Performance(fmt.Sprintf("%s v%d in production", f.Model, f.Version), est, lo, hi, real, f.Validation.AUC)
	if err != nil {
		return err
	}
	f.ProductionPlot = htmltemplate.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	return nil
}
