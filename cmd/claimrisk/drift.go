package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/driftcheck"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

func (a *app) driftCmd() *cobra.Command {
	c := &cobra.Command{Use: "drift", Short: "Run a drift check now and read drift reports"}
	c.AddCommand(a.driftCheckCmd(), a.driftReportCmd())
	return c
}

func (a *app) driftCheckCmd() *cobra.Command {
	var sink string
	var wait time.Duration
	c := &cobra.Command{
		Use:   "check",
		Short: "Send the drift schedule's cron event now and print the report it produces",
		Long: `Check sends the event the drift schedule's PingSource sends (type
` + events.Ping + `, extension check=drift) to --sink, the broker of
'claimrisk up' by default, so that detected drift goes on to retraining as
it would on the cluster. It then waits for the drift function's report.
The check covers the predictions logged since the last check's window
ended, up to the moment it runs; it first waits for the payload log's
flush interval (CLAIMRISK_LOG_MAX_AGE plus CLAIMRISK_LOG_SLACK, 3 seconds
under 'claimrisk up'), so that no prediction still buffered is missed.`,
		Example: "  claimrisk drift check\n  claimrisk drift check --sink http://127.0.0.1:8704   # the drift function itself",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := a.driftCheck(cmd.Context(), sink, wait)
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, summary(rep))
			return nil
		},
	}
	c.Flags().StringVar(&sink, "sink", defaultSink(), "where to send the cron event (env K_SINK)")
	c.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for the report")
	return c
}

// driftCheck sends the drift schedule's event to sink now and waits for
// the report it produces.
func (a *app) driftCheck(ctx context.Context, sink string, wait time.Duration) (driftcheck.Report, error) {
	// The bucket the report will be read from is checked before the check
	// is asked for: a mistyped --bucket is said before anything is sent.
	b, err := a.readBucket(ctx)
	if err != nil {
		return driftcheck.Report{}, err
	}
	defer b.Close()
	now := time.Now().UTC()
	e, err := localrun.PingEvent(now, "drift")
	if err != nil {
		return driftcheck.Report{}, err
	}
	events.NewSigner(os.Getenv("CLAIMRISK_EVENT_KEY")).Sign(&e)
	s, _ := events.NewSender()
	if _, err := s.Send(ctx, sink, e); err != nil {
		var de *events.DeliveryError
		if errors.As(err, &de) && de.Status == 0 {
			return driftcheck.Report{}, fmt.Errorf("nothing answered at %s: start the system with 'claimrisk up' or pass --sink (%v)", sink, err)
		}
		return driftcheck.Report{}, err
	}
	a.progressf("sent the drift check to %s; waiting for the report ...", sink)
	deadline := time.Now().Add(wait)
	for {
		// Reports are named by the drift function's clock; this check's
		// report names the event that asked for it.
		rep, found, err := driftcheck.ForEvent(ctx, b, e.ID(), now)
		if err != nil {
			return driftcheck.Report{}, err
		}
		if found {
			return rep, nil
		}
		if time.Now().After(deadline) {
			return driftcheck.Report{}, fmt.Errorf("no report for the check %s after %s: is there a champion? see the drift function's log", e.ID(), wait)
		}
		select {
		case <-ctx.Done():
			return driftcheck.Report{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// summary is the few lines a person reads first.
func summary(r driftcheck.Report) string {
	verdict := "no drift"
	if r.DriftDetected {
		verdict = "DRIFT DETECTED"
	}
	s := fmt.Sprintf("drift report %s: %s (model v%d, %d predictions from %s to %s)\n", r.ID, verdict, r.ChampionVersion, r.Rows,
		r.WindowFrom.Format(time.DateTime), r.WindowTo.Format(time.DateTime))
	if len(r.RulesFired) > 0 {
		s += "  rules fired: " + strings.Join(r.RulesFired, ", ") + "\n"
	}
	for _, reason := range r.Reasons {
		s += "  - " + reason + "\n"
	}
	for _, c := range r.DriftedColumns {
		s += fmt.Sprintf("  drifted: %-16s %s %.4f (threshold %.4f)\n", c.Column, c.Test, c.Score, c.Threshold)
	}
	if r.Enough {
		s += fmt.Sprintf("  prediction: %s %.4f, mean probability %.4f -> %.4f\n", r.PredictionDrift.Test, r.PredictionDrift.Score,
			r.PredictionDrift.ReferenceMean, r.PredictionDrift.CurrentMean)
	}
	if f := r.Fairness; f != nil && len(f.Groups) > 0 {
		verdict := "within"
		if r.FairnessAlert {
			verdict = "FAIRNESS ALERT, outside"
		}
		means := make([]string, len(f.Groups))
		for i, g := range f.Groups {
			means[i] = fmt.Sprintf("%s %.4f", g.Group, g.MeanPredicted)
		}
		s += fmt.Sprintf("  fairness by %s: disparate impact %s/%s %.3f (%s [%.2f, %.2f]); mean probability %s\n",
			f.Attribute, f.Protected, f.Reference, f.DisparateImpact, verdict, f.Lower, f.Upper, strings.Join(means, ", "))
	}
	if e := r.Estimate; e != nil {
		alarm := ""
		if e.Alarm {
			alarm = " ALARM"
		}
		s += fmt.Sprintf("  estimated from the predictions alone (CBPE): AUC %.4f [%.4f, %.4f] (validation %.4f)%s, expected claim rate %.4f [%.4f, %.4f] vs mean prediction %.4f\n",
			e.AUC, e.AUCLower, e.AUCUpper, e.ValidationAUC, alarm, e.ClaimRate, e.ClaimRateLower, e.ClaimRateUpper, e.MeanPredicted)
	}
	for _, l := range r.LateQuality {
		auc, est := "n/a", "n/a"
		if l.Quality.AUC != nil {
			auc = fmt.Sprintf("%.4f", *l.Quality.AUC)
		}
		if l.EstimatedAUC != nil {
			est = fmt.Sprintf("%.4f", *l.EstimatedAUC)
		}
		s += fmt.Sprintf("  late outcomes for window %s: AUC %s on %d labelled (estimated %s then), observed claim rate %.4f vs mean prediction %.4f\n",
			l.ReportID, auc, l.Quality.LabelledRows, est, l.Quality.ObservedRate, l.Quality.MeanPredicted)
	}
	if q := r.Quality; q != nil {
		auc := "n/a"
		if q.AUC != nil {
			auc = fmt.Sprintf("%.4f", *q.AUC)
		}
		s += fmt.Sprintf("  quality on %d labelled: AUC %s (validation %.4f), observed claim rate %.4f vs mean prediction %.4f\n",
			q.LabelledRows, auc, q.ReferenceAUC, q.ObservedRate, q.MeanPredicted)
	}
	s += fmt.Sprintf("  full report: %s\n", driftcheck.Key(r.ID, "report.md"))
	return s
}

func (a *app) driftReportCmd() *cobra.Command {
	var asJSON, markdown bool
	c := &cobra.Command{
		Use:   "report",
		Short: "Print the latest drift report",
		Long: `Report prints the newest drift report in the bucket: a summary, the whole
Markdown page with --markdown, or the JSON with --json (fields drift_detected,
drifted_columns with each test, score and threshold, prediction_drift,
data_quality and quality).`,
		Example: "  claimrisk drift report\n  claimrisk drift report --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.readBucket(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			rep, err := driftcheck.Latest(cmd.Context(), b)
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(a.stdout, rep)
			case markdown:
				fmt.Fprint(a.stdout, rep.Markdown())
			default:
				fmt.Fprint(a.stdout, summary(rep))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the report's JSON")
	c.Flags().BoolVar(&markdown, "markdown", false, "print the whole report as Markdown")
	return c
}
