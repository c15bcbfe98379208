package events

import (
	"errors"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	s, other, off := NewSigner("a-shared-event-key"), NewSigner("another-key"), NewSigner("")
	e, _ := New("id-1", ModelTrained, SourceTrain, "run-1", map[string]string{"run_id": "run-1"})
	if err := s.Verify(e); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned event: %v, want ErrUnsigned", err)
	}
	s.Sign(&e)
	if err := s.Verify(e); err != nil {
		t.Fatalf("signed event: %v", err)
	}
	if err := other.Verify(e); !errors.Is(err, ErrUnsigned) {
		t.Errorf("another key accepted the event: %v", err)
	}
	if err := off.Verify(e); err != nil {
		t.Errorf("with no key every event is accepted: %v", err)
	}
	tampered := e.Clone()
	_ = tampered.SetData("application/json", map[string]string{"run_id": "run-2"})
	if err := s.Verify(tampered); !errors.Is(err, ErrUnsigned) {
		t.Errorf("changed data passed: %v", err)
	}
	ping, _ := New("p", Ping, "/apis/v1/namespaces/claimrisk/pingsources/drift-schedule", "", map[string]string{"check": "drift"})
	if err := s.Verify(ping); err != nil {
		t.Errorf("an unsigned ping must pass (a PingSource cannot sign): %v", err)
	}
	ping.SetExtension(SignatureExtension, "00")
	if err := s.Verify(ping); !errors.Is(err, ErrUnsigned) {
		t.Errorf("a ping with a wrong signature passed: %v", err)
	}
}
