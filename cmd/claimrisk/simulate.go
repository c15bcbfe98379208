package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/customers"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/pseudonym"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

func scenarioHelp() string {
	var b strings.Builder
	for _, s := range synth.Scenarios {
		fmt.Fprintf(&b, "  %-16s %s\n", s.Name, s.Description)
	}
	return b.String()
}

// storeAttributes writes the simulated customers' protected attribute,
// pseudonymised with the key the prediction API uses, where the drift
// function's fairness checks find it: the part the insurer's customer
// records play.
func (a *app) storeAttributes(ctx context.Context, source string, draws []synth.Draw) error {
	key := os.Getenv("CLAIMRISK_PSEUDONYM_KEY")
	if key == "" {
		key = pseudonym.DevKey
	}
	p, err := pseudonym.New(key)
	if err != nil {
		return err
	}
	b, err := a.openBucket(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	attrs := make([]customers.Attribute, len(draws))
	for i, d := range draws {
		attrs[i] = customers.Attribute{Customer: p.Of(d.Reported.CustomerID), Sex: d.Sex}
	}
	return customers.Write(ctx, b, source, attrs)
}

func (a *app) simulateCmd() *cobra.Command {
	var url, scenario, token, host string
	var policies, batch int
	var seed, worldSeed uint64
	var noFeedback bool
	var feedbackAfter, checkWait time.Duration
	var windows, labelDelay, shiftFrom int
	var sink string
	c := &cobra.Command{
		Use:   "simulate --scenario NAME",
		Short: "Send drifting traffic through the prediction API, then the observed claims",
		Long: `Simulate draws new policies from the generator's world, changed by a
scenario, sends them to POST /v1/predict in batches, and then sends the
observed claims of those policies to POST /v1/feedback. It also stores the
simulated customers' sex, pseudonymised with CLAIMRISK_PSEUDONYM_KEY (the
development key when unset), in the bucket's customer attributes, where the
fairness checks find it. It is seeded: the same flags send the same traffic.

With --windows N it sends N windows of --policies each and runs a drift
check (the drift schedule's event to --sink) after each; --shift-from K
sends scenario none before window K. With --label-delay D the outcomes of a
window arrive D windows later, just before that window's check, as claims
do months after the policy is priced; they name the policy and the time of
its prediction (predicted_at), and the request. Outcomes still outstanding
after the last window are never sent. At the end it says at which window
the estimate (CBPE) and the realised quality first raised their alarms.

Scenarios:
` + scenarioHelp(),
		Example: "  claimrisk simulate --scenario none\n  claimrisk simulate --scenario accident-spike --policies 3000\n" +
			"  claimrisk simulate --scenario broker --windows 12 --shift-from 3 --label-delay 6 --policies 1000",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := synth.ScenarioNamed(scenario)
			if err != nil {
				return usageError{err}
			}
			if policies < 1 || policies > 100000 || batch < 1 || batch > 1000 {
				return usagef("--policies must be 1 to 100,000 and --batch 1 to 1,000")
			}
			if windows < 1 || windows > 200 || labelDelay < 0 || shiftFrom < 1 || shiftFrom > windows || windows*policies > 400000 {
				return usagef("--windows must be 1 to 200, --label-delay 0 or more, --shift-from 1 to --windows, and --windows times --policies at most 400,000")
			}
			if noFeedback && labelDelay > 0 {
				return usagef("--no-feedback and --label-delay do not go together: with --label-delay the outcomes arrive late")
			}
			base := synth.DefaultConfig()
			base.Seed = worldSeed
			client := predictapi.NewClient(url, token)
			client.Host = host
			ctx := cmd.Context()
			if windows > 1 || labelDelay > 0 {
				return a.simulateWindows(ctx, client, base, sc, windowPlan{seed: seed, policies: policies, batch: batch, windows: windows,
					shiftFrom: shiftFrom, delay: labelDelay, sink: sink, wait: checkWait})
			}
			base.Policies = max(base.Policies, policies*5)
			draws, err := synth.Traffic(base, seed, policies, sc)
			if err != nil {
				return err
			}
			if err := a.storeAttributes(ctx, fmt.Sprintf("simulate-%d", seed), draws); err != nil {
				return err
			}
			type sent struct {
				request string
				draw    synth.Draw
			}
			var log []sent
			versions := map[int]int{}
			meanP, claims := 0.0, 0
			start := time.Now()
			for i := 0; i < len(draws); i += batch {
				part := draws[i:min(i+batch, len(draws))]
				recs := make([]schema.PolicyRecord, len(part))
				for j, d := range part {
					recs[j] = d.Reported
				}
				resp, err := client.Predict(ctx, recs)
				if err != nil {
					return fmt.Errorf("%s/v1/predict after %d policies: %w", url, i, err)
				}
				versions[resp.Model.Version] += len(part)
				for j, d := range part {
					log = append(log, sent{resp.RequestID, d})
					meanP += resp.Predictions[j].ClaimProbability
					if d.Claim {
						claims++
					}
				}
				if done := i + len(part); done%(batch*5) == 0 || done == len(draws) {
					a.progressf("simulate %s: predicted %s of %s policies", sc.Name, thousands(done), thousands(len(draws)))
				}
			}
			if err := client.Flush(ctx); err != nil {
				return fmt.Errorf("%s/v1/admin/flush: %w", url, err)
			}
			fmt.Fprintf(a.stdout, "sent %s policies of scenario %s in %.1fs (model versions %v): mean predicted claim probability %.4f\n",
				thousands(len(draws)), sc.Name, time.Since(start).Seconds(), versions, meanP/float64(len(draws)))
			if noFeedback {
				return nil
			}
			if feedbackAfter > 0 {
				a.progressf("waiting %s before sending the observed claims ...", feedbackAfter)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(feedbackAfter):
				}
			}
			for i := 0; i < len(log); i += batch {
				part := log[i:min(i+batch, len(log))]
				outcomes := make([]predictapi.Outcome, len(part))
				for j, s := range part {
					claim := s.draw.Claim
					outcomes[j] = predictapi.Outcome{PolicyID: s.draw.Reported.PolicyID, RequestID: s.request, Claim: &claim}
				}
				if _, err := client.Feedback(ctx, outcomes); err != nil {
					return fmt.Errorf("%s/v1/feedback: %w", url, err)
				}
			}
			if err := client.Flush(ctx); err != nil {
				return fmt.Errorf("%s/v1/admin/flush: %w", url, err)
			}
			fmt.Fprintf(a.stdout, "sent %s observed outcomes: %s claims, an observed claim rate of %.4f\n",
				thousands(len(log)), thousands(claims), float64(claims)/float64(len(log)))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&scenario, "scenario", "", "scenario name (see above)")
	f.StringVar(&url, "url", defaultURL("predict", DefaultPredictURL), "base URL of the prediction API")
	f.StringVar(&token, "token", os.Getenv("CLAIMRISK_API_TOKEN"), "bearer token, when the API requires one (env CLAIMRISK_API_TOKEN)")
	f.StringVar(&host, "host", "", "Host header to send, for a Knative ingress: --url http://127.0.0.1:31080 --host predict.claimrisk.127.0.0.1.sslip.io")
	f.IntVar(&policies, "policies", 2000, "policies to send")
	f.IntVar(&batch, "batch", 200, "policies per request")
	f.Uint64Var(&seed, "seed", 7, "seed of the simulated customers")
	f.Uint64Var(&worldSeed, "world-seed", synth.DefaultConfig().Seed, "seed of the world the training data came from")
	f.BoolVar(&noFeedback, "no-feedback", false, "send the predictions only")
	f.DurationVar(&feedbackAfter, "feedback-after", 0, "wait this long before sending the outcomes")
	f.IntVar(&windows, "windows", 1, "windows of --policies to send, each followed by a drift check when more than one")
	f.IntVar(&labelDelay, "label-delay", 0, "windows after which a window's outcomes arrive (0: right after its traffic)")
	f.IntVar(&shiftFrom, "shift-from", 1, "first window of the scenario; earlier windows send scenario none")
	f.StringVar(&sink, "sink", defaultSink(), "where the drift checks of --windows go (env K_SINK)")
	f.DurationVar(&checkWait, "check-wait", 2*time.Minute, "how long to wait for each drift check's report")
	_ = c.MarkFlagRequired("scenario")
	return c
}
