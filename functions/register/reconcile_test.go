package function

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// Events the Broker's channel loses are recovered on the cron events,
// from the bucket: a training whose "model trained" event never reached
// register is judged on the dataset scan, and a promotion predict never
// heard of is served after the drift schedule's ping. predict's own poll
// is an hour here, so only the events can move it.
func TestLostEventsAreRecoveredOnTheCron(t *testing.T) {
	home := t.TempDir()
	bucket := "file://" + filepath.Join(home, "bucket")
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted || d.Version != 1 {
		t.Fatalf("no champion v1: %+v", d)
	}
	// A second training whose model.trained event was lost: its runs are
	// in the bucket, the registry knows nothing of them.
	lost := testenv.Trained(t, bucket, 43, 8000)
	sys, _ := testenv.SystemAt(t, home, []string{"CLAIMRISK_RECONCILE_AFTER=0s", "CLAIMRISK_POLL_INTERVAL=1h", "CLAIMRISK_PROMOTION_MARGIN=-1"}, "register", "predict")
	api := predictapi.NewClient(sys.URL("predict"), "")
	serves := func(version int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			info, err := api.Model(context.Background())
			if err == nil && info.Version == version {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("predict serves %+v (%v) after %s; want v%d", info, err, within, version)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	serves(1, 30*time.Second)
	ping := func(check string) {
		t.Helper()
		e, _ := localrun.PingEvent(time.Now(), check)
		s, _ := events.NewSender()
		if _, err := s.Send(context.Background(), sys.URL("broker"), e); err != nil {
			t.Fatal(err)
		}
	}

	// The dataset scan: register judges the lost training, and its
	// promotion reaches predict.
	ping("datasets")
	serves(2, 30*time.Second)
	reg := registryList(t, bucket)
	if len(reg.Versions) != 2 || reg.Versions[1].Decision == nil || !reg.Versions[1].Decision.Promoted || reg.Aliases["champion"] != 2 {
		t.Fatalf("registry after the scan: %+v; want v2 (run %s) decided and champion", reg, lost.Best.ID)
	}

	// A promotion nobody announces: a person rolls back by hand. Predict
	// keeps v2 until the drift schedule's ping makes it look.
	testenv.CLI(t, nil, "registry", "promote", "1", "--reason", "rollback in a test", "--bucket", bucket)
	time.Sleep(time.Second)
	if info, err := api.Model(context.Background()); err != nil || info.Version != 2 {
		t.Fatalf("predict serves %+v, %v before the ping; want still v2 (its poll is an hour)", info, err)
	}
	ping("drift")
	serves(1, 10*time.Second)

	// Nothing left to reconcile: another scan changes nothing.
	ping("datasets")
	time.Sleep(time.Second)
	if reg := registryList(t, bucket); len(reg.Versions) != 2 || reg.Aliases["champion"] != 1 {
		t.Fatalf("registry after a second scan: %+v; want the same two versions, v1 champion", reg)
	}
}
