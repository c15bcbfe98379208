package events

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
)

// ErrInvalid marks an event that breaks the rules below: the same event
// can never succeed, so a function refuses it with a 4xx and the broker
// sends it to the dead letters at once instead of retrying it.
var ErrInvalid = errors.New("events: invalid event")

// The grammar of the identifiers and bucket keys events carry. Every
// function checks an event's fields against it before it touches storage,
// so that a name no bucket can hold (too long for a file name, a path out
// of the bucket) is refused as invalid rather than failing as an outage.
const (
	// MaxIDLength bounds dataset and run ids.
	MaxIDLength = 64
	// MaxKeyLength bounds a bucket key; MaxSegmentLength each part of it
	// between slashes (file systems allow 255 bytes per name).
	MaxKeyLength     = 512
	MaxSegmentLength = 128
	// MaxFuture is how far ahead of this function's clock an event's time
	// may be (clock skew between machines); MaxPingAge is how old a cron
	// event may be: a later one replaces it.
	MaxFuture  = 5 * time.Minute
	MaxPingAge = time.Hour
)

var (
	idPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	segmentPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	// reportKey is where the drift function writes a report.
	reportKey = regexp.MustCompile(`^drift/reports/[0-9]{8}T[0-9]{6}\.[0-9]{3}Z/report\.json$`)
)

// Rule is one line of the grammar, for the docs' event catalogue.
type Rule struct{ Field, Rule string }

// Rules describe what CheckID, CheckKey and the payloads' Validate accept.
var Rules = []Rule{
	{"`id` (every event)", fmt.Sprintf("1 to %d characters, no control characters (the CloudEvents attributes are checked by the SDK first: `specversion` 1.0, `id`, `source` and `type` present, `time` an RFC 3339 timestamp)", MaxEventIDLength)},
	{"`time`", fmt.Sprintf("at most %s ahead of the receiving function's clock; a cron event (`%s`) at most %s old", MaxFuture, Ping, MaxPingAge)},
	{"`dataset_id`, `run_id`", fmt.Sprintf("1 to %d characters: ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit", MaxIDLength)},
	{"bucket keys (`*_key`, `manifest`)", fmt.Sprintf("at most %d bytes; parts between `/` of 1 to %d ASCII letters, digits, `.`, `_` and `-`, none `.` or `..`", MaxKeyLength, MaxSegmentLength)},
	{"`report_key`", "`drift/reports/<report id>/report.json`, naming a drift report (`\"format\": \"claimrisk.drift/v1\"`)"},
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// CheckID reports whether s is a dataset or run id.
func CheckID(field, s string) error {
	switch {
	case s == "":
		return invalid("%s is missing", field)
	case len(s) > MaxIDLength:
		return invalid("%s is %d characters long; at most %d", field, len(s), MaxIDLength)
	case !idPattern.MatchString(s):
		return invalid("%s %s: only ASCII letters, digits, '.', '_' and '-', starting with a letter or digit", field, quote(s))
	}
	return nil
}

// CheckKey reports whether key is a bucket key by the grammar above.
func CheckKey(field, key string) error {
	if key == "" {
		return invalid("%s is missing", field)
	}
	if len(key) > MaxKeyLength {
		return invalid("%s is %d bytes long; at most %d", field, len(key), MaxKeyLength)
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return invalid("%s %s has an empty part (a leading, trailing or double '/')", field, quote(key))
		case seg == "." || seg == "..":
			return invalid("%s %s has a %q part", field, quote(key), seg)
		case len(seg) > MaxSegmentLength:
			return invalid("%s has a part of %d characters; at most %d", field, len(seg), MaxSegmentLength)
		case !segmentPattern.MatchString(seg):
			return invalid("%s %s: only ASCII letters, digits, '.', '_', '-' and '/'", field, quote(key))
		}
	}
	return nil
}

// quote shows a value in a message, shortened.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// MaxEventIDLength bounds the id attribute.
const MaxEventIDLength = 256

// CheckEvent checks what the SDK's validation leaves open: the id's length
// and characters, and the time (CheckTime).
func CheckEvent(e event.Event, now time.Time) error {
	if len(e.ID()) > MaxEventIDLength {
		return invalid("id is %d characters long; at most %d", len(e.ID()), MaxEventIDLength)
	}
	if strings.IndexFunc(e.ID(), unicode.IsControl) >= 0 || !utf8.ValidString(e.ID()) {
		return invalid("id %s has a control character or is not UTF-8", quote(e.ID()))
	}
	return CheckTime(e, now)
}

// CheckTime refuses an event dated too far from now: in the future beyond
// clock skew, or, for a cron event, older than a later one would be.
func CheckTime(e event.Event, now time.Time) error {
	t := e.Time()
	if t.IsZero() {
		return nil
	}
	if t.After(now.Add(MaxFuture)) {
		return invalid("time %s is ahead of this clock (%s) by more than %s", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), MaxFuture)
	}
	if e.Type() == Ping && t.Before(now.Add(-MaxPingAge)) {
		return invalid("cron event of %s is %s old; a later one replaces it", t.UTC().Format(time.RFC3339), now.Sub(t).Round(time.Second))
	}
	return nil
}

// Validate checks the fields train reads.
func (d DatasetUploadedData) Validate() error {
	if err := CheckID("dataset_id", d.DatasetID); err != nil {
		return err
	}
	if d.Manifest != "" {
		if err := CheckKey("manifest", d.Manifest); err != nil {
			return err
		}
	}
	for i, o := range d.Objects {
		if err := CheckKey(fmt.Sprintf("objects[%d].key", i), o.Key); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the fields register reads, and the grammar of the rest.
func (d ModelTrainedData) Validate() error {
	if err := CheckID("run_id", d.RunID); err != nil {
		return err
	}
	if d.DatasetID != "" {
		if err := CheckID("dataset_id", d.DatasetID); err != nil {
			return err
		}
	}
	for field, key := range map[string]string{"model_key": d.ModelKey, "run_key": d.RunKey, "validation_key": d.Validation} {
		if key == "" {
			continue
		}
		if err := CheckKey(field, key); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the report key train reads, and the labelled rows' key.
func (d DriftDetectedData) Validate() error {
	if err := CheckKey("report_key", d.ReportKey); err != nil {
		return err
	}
	if !reportKey.MatchString(d.ReportKey) {
		return invalid("report_key %s does not name a drift report (drift/reports/<id>/report.json)", quote(d.ReportKey))
	}
	if d.LabelledKey != "" {
		if err := CheckKey("labelled_key", d.LabelledKey); err != nil {
			return err
		}
	}
	return nil
}
