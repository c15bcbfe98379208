package labcheck

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/claimrisk/claimrisk/shared/driftcheck"
)

// checkLab5 checks what lab 5's steps leave behind (Monitoring).
func checkLab5(ctx context.Context, env *Env) []Result {
	reports := env.reports(ctx)
	if len(reports) == 0 {
		return []Result{todo("no drift report in the bucket: send traffic and run a drift check (%s)", step(5, 1))}
	}
	out := []Result{done("%d drift report(s), the latest %s", len(reports), reports[len(reports)-1].ID)}
	labelled := slices.IndexFunc(reports, func(r driftcheck.Report) bool { return r.Quality != nil })
	if labelled < 0 {
		out = append(out, todo("no report has checked quality: send traffic with its outcomes (simulate without --no-feedback) and check again (%s)", step(5, 1)))
	} else {
		out = append(out, done("report %s checked quality on %d labelled predictions", reports[labelled].ID, reports[labelled].Quality.LabelledRows))
	}
	detected := slices.IndexFunc(reports, func(r driftcheck.Report) bool { return r.DriftDetected })
	if detected < 0 {
		out = append(out, todo("no report has detected drift yet: simulate the accident spike and check again (%s)", step(5, 3)))
	} else {
		r := reports[detected]
		reason := "drifted columns"
		if len(r.Reasons) > 0 {
			reason = r.Reasons[0]
		}
		out = append(out, done("report %s detected drift: %s", r.ID, reason))
	}
	keys, _ := env.bucket.Keys(ctx, "drift/evidently/")
	summaries := 0
	for _, k := range keys {
		if strings.HasSuffix(k, "/summary.json") {
			summaries++
		}
	}
	if summaries == 0 {
		out = append(out, todo("no Evidently report in the bucket: the Evidently job runs after each drift check while claimrisk up runs; "+
			"wait a minute, or read %s (%s)", filepath.Join(env.home, "logs", "evidently-job.log"), step(5, 4)))
	} else {
		out = append(out, done("the Evidently job reported on %d window(s)", summaries))
	}
	return out
}

// lab5Answer is what exercise 5.2 writes to exercises/lab5.json.
type lab5Answer struct {
	Report          string  `json:"report"`
	DisparateImpact float64 `json:"disparate_impact"`
	FavourableF     float64 `json:"favourable_rate_F"`
	FavourableM     float64 `json:"favourable_rate_M"`
	FourFifths      float64 `json:"four_fifths_ratio"`
}

// stepColumns are the columns lab 5's steps make drift (the unit bug, the
// broker's book of step 6 and the gender proxy); exercise 5.1's scenario
// drifts another.
var stepColumns = []string{"annual_mileage", "vehicle_type", "home_area", "usage", "coverage"}

// exercisesLab5 checks each of lab 5's exercises.
func exercisesLab5(ctx context.Context, env *Env) []Result {
	var out []Result
	reports := env.reports(ctx)
	by := exercise(5, 1)
	var own []string
	for _, r := range reports {
		for _, c := range r.DriftedColumns {
			if !slices.Contains(stepColumns, c.Column) && !slices.Contains(own, c.Column) {
				own = append(own, c.Column)
			}
		}
	}
	if len(own) == 0 {
		out = append(out, todo("%s: no drift report has found drift in a column other than %s, which the lab's steps move: send your scenario's traffic and run a drift check",
			by, strings.Join(stepColumns[:len(stepColumns)-1], ", ")+" or "+stepColumns[len(stepColumns)-1]))
	} else {
		out = append(out, done("%s: a drift check found your scenario's drift in %s", by, strings.Join(own, ", ")))
	}

	by = exercise(5, 2)
	var a lab5Answer
	if r, ok := env.exerciseJSON("lab5.json", by, &a); !ok {
		return append(out, r)
	}
	i := slices.IndexFunc(reports, func(r driftcheck.Report) bool { return r.ID == a.Report })
	switch {
	case i < 0:
		out = append(out, todo("%s: lab5.json names report %q, which is not in the bucket", by, a.Report))
	case reports[i].Fairness == nil:
		out = append(out, todo("%s: report %s has no fairness figures to compare with", by, a.Report))
	case math.Abs(a.DisparateImpact-reports[i].Fairness.DisparateImpact) > 0.005:
		out = append(out, todo("%s: your disparate impact %.3f is not the report's %.3f: join the window's predictions to the customers' sex and divide the mean probabilities (F over M)",
			by, a.DisparateImpact, reports[i].Fairness.DisparateImpact))
	case a.FavourableF <= 0 || a.FavourableF > 1 || a.FavourableM <= 0 || a.FavourableM > 1:
		out = append(out, todo("%s: the favourable rates must be shares between 0 and 1", by))
	case math.Abs(a.FourFifths-math.Min(a.FavourableF, a.FavourableM)/math.Max(a.FavourableF, a.FavourableM)) > 0.005:
		out = append(out, todo("%s: four_fifths_ratio %.3f is not the lower favourable rate over the higher (%.3f over %.3f)", by, a.FourFifths,
			math.Min(a.FavourableF, a.FavourableM), math.Max(a.FavourableF, a.FavourableM)))
	default:
		verdict := "passes"
		if a.FourFifths < 0.8 {
			verdict = "fails"
		}
		out = append(out, done("%s: report %s: mean-probability ratio %.3f; favourable rates F %.3f, M %.3f, ratio %.3f %s the four-fifths rule",
			by, a.Report, a.DisparateImpact, a.FavourableF, a.FavourableM, a.FourFifths, verdict))
	}
	return out
}
