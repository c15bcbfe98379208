package driftcheck

import (
	"fmt"

	"github.com/claimrisk/claimrisk/shared/governance"
	"strings"
	"time"
)

func opt(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", *p)
}

// Markdown is the report as a page a person reads.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Drift report %s\n\n", r.ID)
	fmt.Fprintf(&b, "Model **%s v%d** (trained on dataset %s), window %s to %s: **%d** logged predictions against **%d** reference rows.\n\n",
		r.Model, r.ChampionVersion, r.DatasetID, r.WindowFrom.Format(time.RFC3339), r.WindowTo.Format(time.RFC3339), r.Rows, r.ReferenceRows)
	verdict := "No drift detected."
	if r.DriftDetected {
		verdict = "**Drift detected.**"
	}
	fmt.Fprintf(&b, "%s\n\n", verdict)
	if len(r.RulesFired) > 0 {
		fmt.Fprintf(&b, "Rules that fired: %s.\n\n", strings.Join(r.RulesFired, ", "))
	}
	for _, reason := range r.Reasons {
		fmt.Fprintf(&b, "- %s\n", reason)
	}
	if r.FairnessAlert {
		b.WriteString("\n**Fairness alert.**\n\n")
		for _, reason := range r.FairnessReasons {
			fmt.Fprintf(&b, "- %s\n", reason)
		}
	}
	if !r.Enough {
		return b.String()
	}
	fmt.Fprintf(&b, "\n## Columns\n\nA drifted feature raises the alarm by itself when its weight (its share of the variance of the model's logit on the reference, unless configured) is at least %.3f, or its rule is alert.\n\n", r.WeightFloor)
	b.WriteString("| column | type | test | score | threshold | drifted | weight | rule | alert | out of reference range |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for i, c := range r.Columns {
		flag, alert := "", ""
		if c.Drifted {
			flag = "**yes**"
		}
		if c.Alert {
			alert = "**yes**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.4f | %.4f | %s | %.3f | %s | %s | %.1f%% |\n", c.Column, c.Kind, c.Test, c.Score, c.Threshold, flag, c.Weight, c.Rule, alert, 100*r.DataQuality[i].OutOfRange)
	}
	p := r.PredictionDrift
	fmt.Fprintf(&b, "\n## Prediction drift\n\n%s %.4f (threshold %.4f): mean probability %.4f in the reference, %.4f now.\n",
		p.Test, p.Score, p.Threshold, p.ReferenceMean, p.CurrentMean)
	fmt.Fprintf(&b, "\nDataset drift: %d of %d columns drifted (share %.2f, threshold %.2f).\n",
		r.DatasetDrift.Drifted, r.DatasetDrift.Columns, r.DatasetDrift.Share, r.DatasetDrift.Threshold)
	if f := r.Fairness; f != nil {
		b.WriteString("\n## Fairness\n\n")
		if f.DisparateImpact == 0 {
			fmt.Fprintf(&b, "No comparison: %s (%d predictions without a known %s).\n", f.Note, f.Unknown, f.Attribute)
		} else {
			flag := ""
			if f.Flagged {
				flag = " **Flagged.**"
			}
			fmt.Fprintf(&b, "Disparate impact (mean predicted probability of %s over %s, by %s): %.3f, allowed [%.2f, %.2f].%s\n\n",
				f.Protected, f.Reference, f.Attribute, f.DisparateImpact, f.Lower, f.Upper, flag)
			b.WriteString("| group | predictions | mean predicted | observed | false positive rate | true positive rate |\n|---|---|---|---|---|---|\n")
			labelled := map[string]governance.Group{}
			if r.FairnessLabelled != nil {
				for _, g := range r.FairnessLabelled.Groups {
					labelled[g.Group] = g
				}
			}
			for _, g := range f.Groups {
				l := labelled[g.Group]
				fmt.Fprintf(&b, "| %s | %d | %.4f | %s | %s | %s |\n", g.Group, g.N, g.MeanPredicted, opt(l.ObservedRate), opt(l.FalsePositiveRate), opt(l.TruePositiveRate))
			}
		}
	}
	if e := r.Estimate; e != nil {
		alarm := "no alarm"
		if e.Alarm {
			alarm = "**alarm**"
		}
		fmt.Fprintf(&b, "\n## Estimated performance\n\nFrom the %d predictions alone, before any outcome (CBPE): ROC AUC %.4f, band %.4f to %.4f, against the validation AUC %.4f (%s); expected claim rate %.4f (band %.4f to %.4f) against a mean prediction of %.4f.\n",
			e.Rows, e.AUC, e.AUCLower, e.AUCUpper, e.ValidationAUC, alarm, e.ClaimRate, e.ClaimRateLower, e.ClaimRateUpper, e.MeanPredicted)
	}
	if len(r.LateQuality) > 0 {
		b.WriteString("\n## Outcomes that arrived late\n\n| window | predictions | labelled | realised AUC | estimated AUC then | observed claim rate | mean predicted | degraded |\n|---|---|---|---|---|---|---|---|\n")
		for _, l := range r.LateQuality {
			flag := ""
			if l.Quality.Degraded {
				flag = "**yes**"
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %.4f | %.4f | %s |\n", l.ReportID, l.Rows, l.Quality.LabelledRows, opt(l.Quality.AUC), opt(l.EstimatedAUC), l.Quality.ObservedRate, l.Quality.MeanPredicted, flag)
		}
	}
	b.WriteString("\n## Model quality\n\n")
	q := r.Quality
	if q == nil {
		b.WriteString("No outcomes have arrived for this window yet.\n")
		return b.String()
	}
	auc := "n/a (one outcome only)"
	if q.AUC != nil {
		auc = fmt.Sprintf("%.4f", *q.AUC)
	}
	fmt.Fprintf(&b, "On %d labelled predictions: AUC %s (validation %.4f), log loss %.4f, Brier %.4f; observed claim rate %.4f against a mean prediction of %.4f.\n",
		q.LabelledRows, auc, q.ReferenceAUC, q.LogLoss, q.Brier, q.ObservedRate, q.MeanPredicted)
	if len(q.Calibration) > 0 {
		b.WriteString("\n| decile | rows | mean predicted | observed |\n|---|---|---|---|\n")
		for i, bin := range q.Calibration {
			fmt.Fprintf(&b, "| %d | %d | %.4f | %.4f |\n", i+1, bin.N, bin.MeanPredicted, bin.ObservedRate)
		}
	}
	return b.String()
}
