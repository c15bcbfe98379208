package events

import (
	"errors"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

func TestIDsAndKeysFollowTheGrammar(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"c868cee26679f17d", true}, {"run-1fda372b8876", true}, {"Data_2024.v2", true},
		{strings.Repeat("a", MaxIDLength), true}, {strings.Repeat("a", MaxIDLength+1), false},
		{"", false}, {"../etc", false}, {".hidden", false}, {"a/b", false}, {"a b", false},
		{"a\x00b", false}, {"a\x1bb", false}, {"caf\u00e9", false}, {"a\xffb", false},
	} {
		err := CheckID("dataset_id", tt.id)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("CheckID(%q) = %v; want ok=%v (and ErrInvalid when not)", tt.id, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		key string
		ok  bool
	}{
		{"drift/reports/20261129T203519.266Z/report.json", true}, {"runs/run-1/model.json", true},
		{strings.Repeat("a/", 255) + "b", true}, {strings.Repeat("a/", 256) + "b", false},
		{strings.Repeat("k", MaxSegmentLength) + "/x", true}, {strings.Repeat("k", MaxSegmentLength+1) + "/x", false},
		{"", false}, {"/abs", false}, {"a//b", false}, {"a/", false}, {"a/../b", false}, {"./a", false},
		{"a/b c", false}, {"a/\x00", false}, {"a\\b", false},
	} {
		err := CheckKey("report_key", tt.key)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("CheckKey(%q) = %v; want ok=%v", tt.key, err, tt.ok)
		}
	}
}

func TestEventTimesFarFromNowAreRefused(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		typ string
		at  time.Time
		ok  bool
	}{
		{ModelTrained, time.Time{}, true},
		{ModelTrained, now.Add(MaxFuture), true},
		{ModelTrained, now.Add(MaxFuture + time.Second), false},
		{Ping, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{ModelTrained, now.Add(-30 * 24 * time.Hour), true}, // a dead letter sent again
		{Ping, now.Add(-MaxPingAge), true},
		{Ping, now.Add(-MaxPingAge - time.Second), false},
	} {
		e := cloudevents.NewEvent()
		e.SetID("x")
		e.SetType(tt.typ)
		e.SetTime(tt.at)
		if err := CheckEvent(e, now); (err == nil) != tt.ok {
			t.Errorf("%s at %s: %v; want ok=%v", tt.typ, tt.at, err, tt.ok)
		}
	}
	e := cloudevents.NewEvent()
	e.SetType(Ping)
	e.SetID(strings.Repeat("i", MaxEventIDLength+1))
	if err := CheckEvent(e, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("an id of %d characters: %v; want ErrInvalid", MaxEventIDLength+1, err)
	}
}

func TestPayloadsAreValidatedBeforeUse(t *testing.T) {
	t.Parallel()
	for name, err := range map[string]error{
		"dataset id too long":   DatasetUploadedData{DatasetID: strings.Repeat("d", 300)}.Validate(),
		"object key with ..":    DatasetUploadedData{DatasetID: "d1", Objects: []ObjectRef{{Key: "datasets/../x"}}}.Validate(),
		"run id missing":        ModelTrainedData{}.Validate(),
		"validation key empty":  ModelTrainedData{RunID: "run-1", Validation: "runs//v.parquet"}.Validate(),
		"report key at a model": DriftDetectedData{ReportKey: "runs/run-1/model.json"}.Validate(),
		"labelled key absolute": DriftDetectedData{ReportKey: "drift/reports/20261129T203519.266Z/report.json", LabelledKey: "/etc/passwd"}.Validate(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", name, err)
		}
	}
	for _, e := range Catalogue {
		if v, ok := e.Example.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				t.Errorf("the catalogue's example of %s breaks the grammar: %v", e.Type, err)
			}
		}
	}
}
