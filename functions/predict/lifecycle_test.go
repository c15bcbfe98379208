package function

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// func-go runs Start in a goroutine while the server already serves:
// requests that arrive while Start runs get "starting" or a real answer,
// and nothing Start sets is read before it is set (go test -race).
func TestRequestsDuringStart(t *testing.T) {
	t.Setenv("CLAIMRISK_BUCKET", "file://"+t.TempDir())
	t.Setenv("LOG_LEVEL", "error")
	f := New()
	srv := httptest.NewServer(http.HandlerFunc(f.Handle))
	defer srv.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	statuses := make(chan int, 10000)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(srv.URL + "/openapi.json")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses <- resp.StatusCode
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(statuses)
	seen := map[int]int{}
	for s := range statuses {
		seen[s]++
	}
	if len(seen) == 0 || seen[http.StatusOK] == 0 {
		t.Errorf("answers during and after Start: %v; want some 200s", seen)
	}
	for s := range seen {
		if s != http.StatusOK && s != http.StatusServiceUnavailable {
			t.Errorf("answers during and after Start: %v; want only 503 (starting) and 200", seen)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// A bucket that stops answering (here an audit entry of the registry that
// is a FIFO nobody writes, so reading it blocks) must not hold up Stop: the
// payload log is flushed and Stop returns once its context ends.
func TestStopDoesNotWaitForAStuckBucket(t *testing.T) {
	dir := t.TempDir()
	audit := filepath.Join(dir, "registry", "claim-risk", "audit")
	if err := os.MkdirAll(audit, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(audit, "00000001.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLAIMRISK_BUCKET", "file://"+dir)
	t.Setenv("LOG_LEVEL", "error")
	f := New()
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the watcher is reading the FIFO
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- f.Stop(ctx) }()
	select {
	case err := <-returned:
		if err == nil {
			t.Error("Stop reported nothing while the registry watcher was stuck")
		}
		t.Logf("Stop: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return 10 s after a stop deadline of 1 s: it waits for the stuck bucket")
	}
	// Let the blocked read go, so the test process ends cleanly.
	if w, err := os.OpenFile(filepath.Join(audit, "00000001.json"), os.O_WRONLY, 0); err == nil {
		w.Close()
	}
}
