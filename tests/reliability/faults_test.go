package reliability

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	trainfn "github.com/claimrisk/claimrisk/functions/train"
	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/events"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/registry"
	"github.com/claimrisk/claimrisk/shared/runstore"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// registryState is what a kill must leave as it was or complete: the
// versions, the aliases with the audit sequence, and the audit log.
type registryState struct {
	Versions []int
	Aliases  registry.State
	Moves    int
}

// checkRegistry reads the registry and fails t unless it is consistent:
// every version reads and its model decodes, every alias names a version,
// and the audit log's last move of each alias is where the alias points.
func checkRegistry(t *testing.T, bucket string) registryState {
	t.Helper()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reg := registry.Open(b, model.Name)
	nums, err := reg.Versions(ctx)
	if err != nil {
		t.Fatalf("registry versions: %v", err)
	}
	for _, n := range nums {
		v, err := reg.Get(ctx, n)
		if err != nil {
			t.Fatalf("v%d is half-written: %v", n, err)
		}
		if _, err := v.LoadModel(); err != nil {
			t.Fatalf("v%d's model does not load: %v", n, err)
		}
	}
	state, err := reg.Aliases(ctx)
	if err != nil {
		t.Fatalf("registry aliases: %v", err)
	}
	moves, err := reg.Log(ctx)
	if err != nil {
		t.Fatalf("registry audit log: %v", err)
	}
	last := map[string]int{}
	for _, m := range moves {
		last[m.Alias] = m.Version
	}
	for alias, v := range state.Aliases {
		if !contains(nums, v) {
			t.Fatalf("alias %s names v%d, which is not a version (%v)", alias, v, nums)
		}
		if last[alias] != v {
			t.Fatalf("alias %s is v%d but its last audit entry says v%d", alias, v, last[alias])
		}
	}
	return registryState{Versions: nums, Aliases: state, Moves: len(moves)}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// deliver sends e to the function at url like the broker does: again while
// the answer is a 5xx or no answer, for up to limit. The registry's claim on
// a run killed midway lapses after a minute (registry.LeaseTimeout).
func deliver(t *testing.T, url string, e event.Event, limit time.Duration) *event.Event {
	t.Helper()
	s, _ := events.NewSender()
	s.Retries = 0
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		reply, err := s.Send(ctx, url, e)
		cancel()
		if err == nil {
			return reply
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery of %s to %s: %v", e.Type(), url, err)
		}
		time.Sleep(time.Second)
	}
}

// A register function killed (SIGKILL, no shutdown) at any point while it
// registers and judges a candidate leaves the registry as it was or with the
// work complete, never half-written; the next delivery completes, and the
// run is registered once.
func TestSIGKILLDuringRegistration(t *testing.T) {
	t.Parallel()
	bucket := "file://" + filepath.Join(t.TempDir(), "bucket")
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted || d.Version != 1 {
		t.Fatalf("first model: %+v", d)
	}
	trained := trainfn.TrainedData(bucket, testenv.Trained(t, bucket, 7, 8000))
	e, err := events.New("trained-"+trained.RunID, events.ModelTrained, events.SourceTrain, trained.RunID, trained)
	if err != nil {
		t.Fatal(err)
	}
	before := checkRegistry(t, bucket)

	outcomes := map[string]int{}
	for _, delay := range []time.Duration{2, 4, 6, 8, 12, 20, 40} {
		fn := testenv.StartFunction(t, "register", "CLAIMRISK_BUCKET="+bucket, "LOG_LEVEL=warn")
		go func() {
			s, _ := events.NewSender()
			s.Retries = 0
			_, _ = s.Send(context.Background(), fn.URL, e)
		}()
		time.Sleep(delay * time.Millisecond)
		if err := syscall.Kill(fn.Process.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-fn.Done()
		after := checkRegistry(t, bucket)
		switch {
		case reflect.DeepEqual(after, before):
			outcomes["as before"]++
		case len(after.Versions) == 2:
			outcomes["v2 registered"]++
		default:
			t.Fatalf("killed after %s: registry %+v, before %+v", delay*time.Millisecond, after, before)
		}
	}

	fn := testenv.StartFunction(t, "register", "CLAIMRISK_BUCKET="+bucket, "LOG_LEVEL=warn")
	start := time.Now()
	reply := deliver(t, fn.URL, e, 3*time.Minute)
	if reply == nil || (reply.Type() != events.ModelPromoted && reply.Type() != events.ModelRejected) {
		t.Fatalf("the delivery after the kills answered %v; want a decision", reply)
	}
	var d events.Decision
	if err := events.Decode(*reply, &d); err != nil {
		t.Fatal(err)
	}
	final := checkRegistry(t, bucket)
	if !reflect.DeepEqual(final.Versions, []int{1, 2}) || d.Version != 2 {
		t.Fatalf("after the redelivery: versions %v, decision %+v; want v2 registered once", final.Versions, d)
	}
	wantChampion := 1
	if d.Promoted {
		wantChampion = 2
	}
	if final.Aliases.Aliases[registry.Champion] != wantChampion {
		t.Fatalf("champion v%d after a decision %q", final.Aliases.Aliases[registry.Champion], d.Reason)
	}
	t.Logf("SIGKILL during registration: 7 kills left the registry %v; the next delivery answered %s (v2, promoted=%v) in %s",
		outcomes, reply.Type(), d.Promoted, time.Since(start).Round(time.Millisecond))
}

// A train function killed midway through fitting leaves the registry as it
// was and no run that reads half-written; the next delivery of the upload
// trains every model kind.
func TestSIGKILLDuringTraining(t *testing.T) {
	t.Parallel()
	bucket := "file://" + filepath.Join(t.TempDir(), "bucket")
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted {
		t.Fatalf("first model: %+v", d)
	}
	before := checkRegistry(t, bucket)
	data := filepath.Join(t.TempDir(), "data")
	testenv.CLI(t, nil, "data", "generate", "--policies", "20000", "--seed", "7", "--out", data)

	fn := testenv.StartFunction(t, "train", "CLAIMRISK_BUCKET="+bucket)
	upload, _ := uploadUntilFitting(t, fn, data, bucket)
	defer upload.Wait() // its answer never comes: the function dies first
	if err := syscall.Kill(fn.Process.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-fn.Done()
	if after := checkRegistry(t, bucket); !reflect.DeepEqual(after, before) {
		t.Fatalf("the kill changed the registry: %+v, before %+v", after, before)
	}
	stored := checkRuns(t, bucket)

	fn = testenv.StartFunction(t, "train", "CLAIMRISK_BUCKET="+bucket)
	testenv.CLI(t, nil, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", fn.URL)
	runs := checkRuns(t, bucket)
	perDataset := map[string]int{}
	for _, r := range runs {
		perDataset[r.DatasetID]++
	}
	if len(perDataset) != 2 {
		t.Fatalf("runs by dataset %v; want the first model's dataset and the killed one's", perDataset)
	}
	for id, n := range perDataset {
		if n != len(model.Kinds) {
			t.Fatalf("dataset %s has %d runs; want one per model kind (%d): runs by dataset %v", id, n, len(model.Kinds), perDataset)
		}
	}
	if after := checkRegistry(t, bucket); !reflect.DeepEqual(after, before) {
		t.Fatalf("training changed the registry (the register function does that): %+v", after)
	}
	t.Logf("SIGKILL during training: %d run(s) of the killed delivery stored whole when killed, %d after the redelivery; registry unchanged",
		len(stored)-len(model.Kinds), len(runs)-len(model.Kinds))
}

// checkRuns lists the stored runs and fails t unless each one's model
// decodes: a run is either stored whole or not listed.
func checkRuns(t *testing.T, bucket string) map[string]runstore.Run {
	t.Helper()
	var runs []runstore.Run
	if err := json.Unmarshal([]byte(testenv.CLI(t, nil, "runs", "list", "--json", "--bucket", bucket)), &runs); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	store := runstore.New(b)
	out := map[string]runstore.Run{}
	for _, r := range runs {
		if _, err := store.Model(ctx, r.ID); err != nil {
			t.Fatalf("run %s is listed but its model does not load: %v", r.ID, err)
		}
		out[r.ID] = r
	}
	return out
}

// A registered version whose stored model is corrupted, or names features
// this code does not know (an incompatible schema), is refused at promotion
// (claimrisk registry promote: a one-line error, the champion stays) and at
// load (the predict function keeps serving its champion and says why).
func TestUnloadableVersionIsRefused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bucket")
	bucket := "file://" + dir
	for v, seed := range []uint64{42, 7} {
		if d := testenv.Train(t, bucket, seed, 8000); !d.Promoted || d.Version != v+1 {
			t.Fatalf("training v%d: %+v", v+1, d)
		}
	}
	testenv.CLI(t, nil, "registry", "promote", "1", "--reason", "back to v1", "--bucket", bucket)
	fn := testenv.StartFunction(t, "predict", "CLAIMRISK_BUCKET="+bucket, "CLAIMRISK_POLL_INTERVAL=300ms")
	c := predictapi.NewClient(fn.URL, "")

	ctx := context.Background()
	b, err := blobstore.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reg := registry.Open(b, model.Name)
	key := "registry/" + model.Name + "/versions/"
	keys, err := b.Keys(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var v2Key string
	var original []byte
	for _, k := range keys {
		if !strings.HasSuffix(k, "/version.json") {
			continue
		}
		data, err := b.Read(ctx, k)
		var v registry.Version
		if err == nil && json.Unmarshal(data, &v) == nil && v.Version == 2 {
			v2Key, original = k, data
		}
	}
	if v2Key == "" {
		t.Fatalf("no version.json of v2 among %v", keys)
	}

	for _, fault := range []struct {
		name   string
		damage func(m map[string]any)
	}{
		{"corrupted: a coefficient missing", func(m map[string]any) {
			coef := m["coef"].([]any)
			m["coef"] = coef[:len(coef)-1]
		}},
		{"incompatible: a feature this code does not know", func(m map[string]any) {
			f := m["features"].(map[string]any)
			names := f["names"].([]any)
			names[len(names)-1] = "credit_score"
		}},
	} {
		t.Run(fault.name, func(t *testing.T) {
			var ver map[string]json.RawMessage
			if err := json.Unmarshal(original, &ver); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(ver["model_object"], &m); err != nil {
				t.Fatal(err)
			}
			fault.damage(m)
			ver["model_object"], _ = json.Marshal(m)
			data, _ := json.Marshal(ver)
			if err := b.Write(ctx, v2Key, data, "application/json"); err != nil {
				t.Fatal(err)
			}

			// At promotion.
			cmd := exec.Command(testenv.Binary(t, "claimrisk"), "registry", "promote", "2", "--reason", "try the damaged version", "--bucket", bucket)
			cmd.Env = append(os.Environ(), "CLAIMRISK_HOME="+t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			msg := strings.TrimSpace(stderr.String())
			if err == nil || len(out) != 0 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "v2 cannot be promoted") {
				t.Errorf("promote 2: %v, stdout %q, stderr %q; want a one-line refusal and no output", err, out, msg)
			}
			if s, _ := reg.Aliases(ctx); s.Aliases[registry.Champion] != 1 {
				t.Fatalf("champion v%d after a refused promotion; want v1", s.Aliases[registry.Champion])
			}

			// At load: another writer moves the alias anyway.
			s, _ := reg.Aliases(ctx)
			if _, err := reg.SetAlias(ctx, s.Seq, registry.Champion, 2, "test", "bypass the check"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond) // five polls
			resp, err := c.Predict(ctx, []schema.PolicyRecord{policy(1)})
			if err != nil || resp.Model.Version != 1 {
				t.Fatalf("predict with a damaged v2 as the alias: %+v, %v; want v1 answering", resp.Model, err)
			}
			log, _ := os.ReadFile(fn.Process.LogPath)
			if !strings.Contains(string(log), "champion v2 cannot be served") {
				t.Errorf("the predict log does not say why v2 is not served:\n%s", lastLines(string(log), 5))
			}
			s, _ = reg.Aliases(ctx)
			if _, err := reg.SetAlias(ctx, s.Seq, registry.Champion, 1, "test", "back to v1"); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: promotion refused with %q; predict kept serving v1", fault.name, msg)
		})
	}
}

// bucketAway makes a file:// bucket unavailable (its directory replaced by a
// file, so nothing can recreate it) and returns the function that brings it
// back.
func bucketAway(t *testing.T, dir string) (restore func()) {
	t.Helper()
	away := dir + ".away"
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a bucket"), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(away, dir); err != nil {
			t.Fatal(err)
		}
	}
}

// The bucket goes away while the train function fits, and while the
// register function is given a candidate: each answers an error the broker
// retries (the function stays up), and once the bucket is back the next
// delivery completes with nothing half-written.
func TestBucketOutageDuringTrainingAndRegistration(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bucket")
	bucket := "file://" + dir
	if d := testenv.Train(t, bucket, 42, 8000); !d.Promoted {
		t.Fatalf("first model: %+v", d)
	}
	before := checkRegistry(t, bucket)
	data := filepath.Join(t.TempDir(), "data")
	testenv.CLI(t, nil, "data", "generate", "--policies", "20000", "--seed", "7", "--out", data)

	// Training.
	train := testenv.StartFunction(t, "train", "CLAIMRISK_BUCKET="+bucket)
	upload, uploadErr := uploadUntilFitting(t, train, data, bucket)
	restore := bucketAway(t, dir)
	err := upload.Wait()
	trainAnswer := lastLines(strings.TrimSpace(uploadErr.String()), 1)
	if err == nil {
		t.Errorf("the upload's event was answered with success while the bucket was away")
	}
	if resp, err := http.Get(train.URL + "/health/liveness"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the train function is not alive after the outage: %v", err)
	}
	restore()
	testenv.CLI(t, nil, "data", "upload", "--dir", data, "--bucket", bucket, "--sink", train.URL)
	runs := checkRuns(t, bucket)
	if len(runs) != 2*len(model.Kinds) {
		t.Fatalf("%d runs after the redelivery; want %d", len(runs), 2*len(model.Kinds))
	}
	if after := checkRegistry(t, bucket); !reflect.DeepEqual(after, before) {
		t.Fatalf("training changed the registry: %+v", after)
	}

	// Registration: a candidate trained from the same data, delivered while
	// the bucket is away, then again once it is back.
	trained := trainfn.TrainedData(bucket, testenv.Trained(t, bucket, 7, 8000))
	e, err := events.New("trained-"+trained.RunID, events.ModelTrained, events.SourceTrain, trained.RunID, trained)
	if err != nil {
		t.Fatal(err)
	}
	register := testenv.StartFunction(t, "register", "CLAIMRISK_BUCKET="+bucket)
	restore = bucketAway(t, dir)
	s, _ := events.NewSender()
	s.Retries = 0
	_, regErr := s.Send(context.Background(), register.URL, e)
	if regErr == nil {
		t.Errorf("register answered success while the bucket was away")
	}
	if resp, err := http.Get(register.URL + "/health/liveness"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the register function is not alive after the outage: %v", err)
	}
	restore()
	if after := checkRegistry(t, bucket); !reflect.DeepEqual(after, before) {
		t.Fatalf("the failed registration changed the registry: %+v", after)
	}
	reply := deliver(t, register.URL, e, 3*time.Minute)
	final := checkRegistry(t, bucket)
	if len(final.Versions) != 2 {
		t.Fatalf("versions %v after the redelivery; want v2 registered once", final.Versions)
	}
	t.Logf("bucket outage: training answered %q; registration answered %v; after it returned: %d runs whole, %s for v2",
		trainAnswer, regErr, len(runs), reply.Type())
}

// uploadUntilFitting starts claimrisk data upload of data with the train
// function as the sink, and returns once the function has started fitting,
// with the running command and its standard error.
func uploadUntilFitting(t *testing.T, fn *testenv.Function, data, bucket string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	upload := exec.Command(testenv.Binary(t, "claimrisk"), "data", "upload", "--dir", data, "--bucket", bucket, "--sink", fn.URL)
	upload.Env = append(os.Environ(), "CLAIMRISK_HOME="+t.TempDir())
	stderr := &strings.Builder{}
	upload.Stderr = stderr
	if err := upload.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		log, _ := os.ReadFile(fn.Process.LogPath)
		if strings.Contains(string(log), `"fitting"`) {
			return upload, stderr
		}
		if time.Now().After(deadline) {
			upload.Process.Kill()
			t.Fatalf("the train function never started fitting:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
