package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
)

// TestOfIsTheKeyedHash checks Of against HMAC-SHA256 computed afresh for
// each id (the definition), also from many goroutines, which share the
// pooled hashes.
func TestOfIsTheKeyedHash(t *testing.T) {
	t.Parallel()
	p, err := New(DevKey)
	if err != nil {
		t.Fatal(err)
	}
	want := func(id string) string {
		m := hmac.New(sha256.New, []byte(DevKey))
		m.Write([]byte(id))
		return "p_" + hex.EncodeToString(m.Sum(nil))[:24]
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				id := fmt.Sprintf("P%08d-%d", i, g)
				if got := p.Of(id); got != want(id) {
					t.Errorf("Of(%q) = %q, want %q", id, got, want(id))
					return
				}
			}
		})
	}
	wg.Wait()
	if got := p.Of(""); got != want("") {
		t.Errorf("Of(\"\") = %q, want %q", got, want(""))
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	t.Parallel()
	if _, err := New("short"); err == nil {
		t.Error("New(\"short\") = nil error, want one")
	}
}

func BenchmarkOf(b *testing.B) {
	p, _ := New(DevKey)
	b.ReportAllocs()
	for b.Loop() {
		p.Of("P00012345")
	}
}
