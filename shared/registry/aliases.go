package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/claimrisk/claimrisk/shared/blobstore"
)

// State is the aliases as of the audit log's latest entry.
type State struct {
	// Seq is the number of the latest audit entry (0 for none).
	Seq     int
	Aliases map[string]int
}

func validAlias(a string) error {
	if a != Champion && a != Challenger {
		return fmt.Errorf("%w %q; want %s or %s", ErrBadAlias, a, Champion, Challenger)
	}
	return nil
}

func (r *Registry) auditKey(seq int) string { return r.key("audit", fmt.Sprintf("%08d.json", seq)) }

// Log reads the audit log, oldest first.
func (r *Registry) Log(ctx context.Context) ([]Move, error) {
	keys, err := r.b.Keys(ctx, r.key("audit")+"/")
	if err != nil {
		return nil, fmt.Errorf("registry: read audit log: %w", err)
	}
	moves := make([]Move, 0, len(keys))
	for _, k := range keys {
		var m Move
		if err := r.b.ReadJSON(ctx, k, &m); err != nil {
			return nil, fmt.Errorf("registry: read audit log: %w", err)
		}
		moves = append(moves, m)
	}
	return moves, nil
}

// Aliases replays the audit log.
func (r *Registry) Aliases(ctx context.Context) (State, error) {
	moves, err := r.Log(ctx)
	if err != nil {
		return State{}, err
	}
	s := State{Aliases: map[string]int{}}
	for _, m := range moves {
		s.Seq = m.Seq
		if m.Version == 0 {
			delete(s.Aliases, m.Alias)
		} else {
			s.Aliases[m.Alias] = m.Version
		}
	}
	return s, nil
}

// LatestSeq is the number of the latest audit entry, from a listing alone:
// a cheap way to tell whether the aliases changed since a known state.
func (r *Registry) LatestSeq(ctx context.Context) (int, error) {
	keys, err := r.b.Keys(ctx, r.key("audit")+"/")
	if err != nil {
		return 0, fmt.Errorf("registry: read audit log: %w", err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	last := keys[len(keys)-1]
	n, err := strconv.Atoi(strings.TrimSuffix(last[strings.LastIndex(last, "/")+1:], ".json"))
	if err != nil {
		return 0, fmt.Errorf("registry: audit entry %s: %w", last, err)
	}
	return n, nil
}

// Resolve returns the version an alias points at.
func (r *Registry) Resolve(ctx context.Context, alias string) (Version, error) {
	if err := validAlias(alias); err != nil {
		return Version{}, err
	}
	s, err := r.Aliases(ctx)
	if err != nil {
		return Version{}, err
	}
	v, ok := s.Aliases[alias]
	if !ok {
		return Version{}, fmt.Errorf("%w: %s@%s", ErrNoAlias, r.name, alias)
	}
	return r.Get(ctx, v)
}

// SetAlias points alias at version, provided the audit log is still at
// expectSeq; otherwise it returns ErrConflict and the caller re-reads the
// state and decides again. version 0 removes the alias.
func (r *Registry) SetAlias(ctx context.Context, expectSeq int, alias string, version int, actor, reason string) (Move, error) {
	if err := validAlias(alias); err != nil {
		return Move{}, err
	}
	if version != 0 {
		if _, err := r.Get(ctx, version); err != nil {
			return Move{}, err
		}
	}
	s, err := r.Aliases(ctx)
	if err != nil {
		return Move{}, err
	}
	if s.Seq != expectSeq {
		return Move{}, fmt.Errorf("%w (audit log at %d, expected %d)", ErrConflict, s.Seq, expectSeq)
	}
	m := Move{Seq: expectSeq + 1, Time: time.Now().UTC(), Alias: alias, Version: version,
		Previous: s.Aliases[alias], Actor: actor, Reason: reason}
	err = r.b.CreateJSON(ctx, r.auditKey(m.Seq), m)
	if errors.Is(err, blobstore.ErrExists) {
		return Move{}, fmt.Errorf("%w (entry %d was written by another writer)", ErrConflict, m.Seq)
	}
	if err != nil {
		return Move{}, fmt.Errorf("registry: move %s to v%d: %w", alias, version, err)
	}
	return m, nil
}

// Decide records the promotion decision about a version, once. If one is
// recorded already, that one is returned and recorded is false.
func (r *Registry) Decide(ctx context.Context, d Decision) (out Decision, recorded bool, err error) {
	err = r.b.CreateJSON(ctx, r.decisionKey(d.Version), d)
	if errors.Is(err, blobstore.ErrExists) {
		out, err := r.Decision(ctx, d.Version)
		return out, false, err
	}
	if err != nil {
		return Decision{}, false, fmt.Errorf("registry: record decision on v%d: %w", d.Version, err)
	}
	return d, true, nil
}

// Decision reads the recorded decision about a version.
func (r *Registry) Decision(ctx context.Context, v int) (Decision, error) {
	var d Decision
	if err := r.b.ReadJSON(ctx, r.decisionKey(v), &d); err != nil {
		if errors.Is(err, blobstore.ErrNotFound) {
			return Decision{}, fmt.Errorf("%w: no decision on %s v%d", ErrNoVersion, r.name, v)
		}
		return Decision{}, fmt.Errorf("registry: read decision on v%d: %w", v, err)
	}
	return d, nil
}

// Factsheet formats stored with a version.
var factsheetFormats = map[string]string{"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8", "json": "application/json"}

// WriteFactsheet stores a version's factsheet in each format (md, html,
// json). A factsheet changes as the version's story does; it is rewritten.
func (r *Registry) WriteFactsheet(ctx context.Context, v int, byFormat map[string][]byte) error {
	for format, data := range byFormat {
		ct, ok := factsheetFormats[format]
		if !ok {
			return fmt.Errorf("registry: factsheet format %q; want md, html or json", format)
		}
		if err := r.b.Write(ctx, r.key("versions", versionDir(v), "factsheet."+format), data, ct); err != nil {
			return fmt.Errorf("registry: factsheet of v%d: %w", v, err)
		}
	}
	return nil
}

// Factsheet reads a version's factsheet in a format (md, html or json).
func (r *Registry) Factsheet(ctx context.Context, v int, format string) ([]byte, error) {
	if _, ok := factsheetFormats[format]; !ok {
		return nil, fmt.Errorf("registry: factsheet format %q; want md, html or json", format)
	}
	data, err := r.b.Read(ctx, r.key("versions", versionDir(v), "factsheet."+format))
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, fmt.Errorf("%w: no factsheet for %s v%d", ErrNoVersion, r.name, v)
	}
	return data, err
}
