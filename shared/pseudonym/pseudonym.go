// Package pseudonym replaces customer and policy identifiers with keyed
// hashes (HMAC-SHA256) before they are logged, so the payload log can be
// joined with feedback and customer data by whoever holds the key, and by
// no one else.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"sync"
)

// DevKey is the key used when none is configured: fine on a laptop, never in
// production (the production overlay takes the key from a Secret).
const DevKey = "claimrisk-local-development-key"

// Pseudonymiser hashes identifiers with one key. It is safe for concurrent
// use.
type Pseudonymiser struct {
	key []byte
	// macs holds keyed HMACs to reuse: a new one hashes the key's two pads
	// again, twice the work of a short id, and allocates.
	macs sync.Pool
}

// New returns a pseudonymiser; the key must be at least 16 bytes.
func New(key string) (*Pseudonymiser, error) {
	if len(key) < 16 {
		return nil, errors.New("pseudonym: key must be at least 16 characters")
	}
	return &Pseudonymiser{key: []byte(key)}, nil
}

// Of is the pseudonym of id: "p_" and 24 hex digits of its keyed hash.
func (p *Pseudonymiser) Of(id string) string {
	m, _ := p.macs.Get().(*mac)
	if m == nil {
		m = &mac{h: hmac.New(sha256.New, p.key)}
	} else {
		m.h.Reset()
	}
	m.in = append(m.in[:0], id...)
	m.h.Write(m.in)
	sum := m.h.Sum(m.sum[:0])
	var out [2 + 24]byte
	out[0], out[1] = 'p', '_'
	hex.Encode(out[2:], sum[:12])
	if cap(m.in) <= 1024 {
		p.macs.Put(m)
	}
	return string(out[:])
}

// mac is a keyed HMAC with room for its input and sum, so that hashing an
// id allocates nothing but the pseudonym.
type mac struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}
