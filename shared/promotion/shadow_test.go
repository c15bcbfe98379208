package promotion

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/tooling/synth"
)

func writeRows[T any](t *testing.T, b *blobstore.Bucket, prefix string, at time.Time, rows []T) {
	t.Helper()
	data, err := parquetio.Encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("%s%s/%d-test-000001.parquet", prefix, at.Format("2006/01/02"), at.UnixMilli())
	if err := b.Write(context.Background(), key, data, "application/vnd.apache.parquet"); err != nil {
		t.Fatal(err)
	}
}

// TestJudgeShadow: a challenger the out-of-time data rejected is judged
// again on its shadow traffic once the outcomes arrive. Too few outcomes:
// it waits. Outcomes drawn from the champion's probabilities: it stays the
// challenger. Outcomes drawn from its own: it becomes the champion.
func TestJudgeShadow(t *testing.T) {
	t.Parallel()
	for _, truth := range []string{"too few", "champion", "challenger"} {
		t.Run(truth, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			if d, err := f.gate.Judge(ctx, f.train(t, config(42, 2021, 2024))); err != nil || !d.Promoted {
				t.Fatalf("champion: %+v %v", d, err)
			}
			strict := *f.gate
			strict.Policy.Margin, strict.Policy.LogLossMargin = 1, 1
			d, err := strict.Judge(ctx, f.train(t, config(7, 2021, 2024)))
			if err != nil || d.Promoted {
				t.Fatalf("challenger: %+v %v", d, err)
			}
			if _, err := f.gate.JudgeShadow(ctx, 500); err != nil {
				t.Fatalf("with no shadow traffic yet: %v", err)
			}
			champ, _ := f.gate.Registry.Get(ctx, 1)
			ch, _ := f.gate.Registry.Get(ctx, d.Version)
			cm, _ := champ.LoadModel()
			hm, _ := ch.LoadModel()
			draws, err := synth.Traffic(synth.DefaultConfig(), 3, 3000, synth.Scenarios[0])
			if err != nil {
				t.Fatal(err)
			}
			n := len(draws)
			if truth == "too few" {
				n = 400
			}
			at := time.Now().UTC().Truncate(time.Millisecond)
			r := rand.New(rand.NewPCG(1, 2))
			var shadow []predlog.ShadowRow
			var fb []predlog.Feedback
			for i, dr := range draws[:n] {
				pc, ph := cm.Predict(dr.Reported), hm.Predict(dr.Reported)
				req := fmt.Sprintf("req-%d", i/100)
				shadow = append(shadow, predlog.ShadowRow{Time: at, RequestID: req, PolicyID: dr.Reported.PolicyID, ModelVersion: int32(ch.Version), Probability: ph, ChampionVersion: 1, ChampionProbability: pc})
				p := pc
				if truth == "challenger" {
					p = ph
				}
				// Make the better model much better: outcomes follow its probability, sharpened.
				claim := int32(0)
				if r.Float64() < min(1, p*p*8) {
					claim = 1
				}
				fb = append(fb, predlog.Feedback{Time: at.Add(time.Second), RequestID: req, PolicyID: dr.Reported.PolicyID, Claim: claim})
			}
			writeRows(t, f.b, predlog.ShadowPrefix, at, shadow)
			writeRows(t, f.b, predlog.FeedbackPrefix, at, fb)
			sd, err := f.gate.JudgeShadow(ctx, 500)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s", truth, sd.Reason)
			state, _ := f.gate.Registry.Aliases(ctx)
			var stored ShadowDecision
			if err := f.b.ReadJSON(ctx, ShadowKey(f.gate.Registry, ch.Version), &stored); err != nil || stored.Reason != sd.Reason {
				t.Errorf("stored shadow decision %+v, %v", stored, err)
			}
			switch truth {
			case "too few":
				if sd.Promoted || !strings.HasPrefix(sd.Reason, "waiting for outcomes: 400 of") || state.Aliases[registry.Champion] != 1 {
					t.Errorf("%+v, aliases %v", sd, state.Aliases)
				}
			case "champion":
				if sd.Promoted || sd.LabelledRows != n || !strings.HasPrefix(sd.Reason, "stays challenger") || state.Aliases[registry.Champion] != 1 {
					t.Errorf("%+v, aliases %v", sd, state.Aliases)
				}
			case "challenger":
				if !sd.Promoted || state.Aliases[registry.Champion] != ch.Version || state.Aliases[registry.Challenger] != 0 {
					t.Errorf("%+v, aliases %v", sd, state.Aliases)
				}
				if _, err := f.gate.JudgeShadow(ctx, 500); !errors.Is(err, ErrNoShadow) {
					t.Errorf("after the promotion: %v, want ErrNoShadow", err)
				}
			}
		})
	}
}
