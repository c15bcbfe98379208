package refdocs

import (
	"strings"
	"testing"
)

func TestAnchorsFollowTheTocExtension(t *testing.T) {
	// Python-Markdown's toc.slugify: drop what is not a word character,
	// space or '-', join runs of spaces and '-', lower-case.
	for heading, want := range map[string]string{
		"claimrisk data fetch-crashes":   "claimrisk-data-fetch-crashes",
		"POST /v1/predict":               "post-v1predict",
		"dev.claimrisk.dataset.uploaded": "devclaimriskdatasetuploaded",
		"a - b":                          "a-b",
		"PolicyRecord":                   "policyrecord",
	} {
		if got := anchor(heading); got != want {
			t.Errorf("anchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

// TestEventExamplesLookLikeEvents keeps the catalogue's examples from
// showing what no event carries: an empty metrics summary, a zero time
// (year 1), a null list or an elided id.
func TestEventExamplesLookLikeEvents(t *testing.T) {
	page, err := eventsPage()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`"n": 0,`, `"auc": 0,`, "0001-01-01", ": null", `"fingerprint": ""`, `..."`} {
		if strings.Contains(page, bad) {
			t.Errorf("the event catalogue's examples show %q; an event of the real system does not", bad)
		}
	}
}
