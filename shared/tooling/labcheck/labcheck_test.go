package labcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// TestHeadingsMatchTheLabPages keeps the steps and exercises the checks
// name equal to the headings of docs/labs, and every exercise heading of
// the pages known to the checks.
func TestHeadingsMatchTheLabPages(t *testing.T) {
	root := testenv.RepoRoot(t)
	pages := map[int]string{}
	for n := 1; n <= Count(); n++ {
		data, err := os.ReadFile(filepath.Join(root, "docs", "labs", fmt.Sprintf("lab-%d.md", n)))
		if err != nil {
			t.Fatal(err)
		}
		pages[n] = string(data)
		if want := "# Lab " + fmt.Sprint(n) + ": " + Title(n) + "\n"; !strings.HasPrefix(pages[n], want) {
			t.Errorf("lab-%d.md does not start %q", n, strings.TrimSpace(want))
		}
	}
	exercises := map[int]int{}
	for h, title := range headings {
		line := fmt.Sprintf("\n## %d. %s\n", h.n, title)
		if h.exercise {
			line = fmt.Sprintf("\n### Exercise %d.%d: %s\n", h.lab, h.n, title)
			exercises[h.lab]++
		}
		if !strings.Contains(pages[h.lab], line) {
			t.Errorf("lab-%d.md has no heading %q, which lab check names", h.lab, strings.TrimSpace(line))
		}
	}
	for n := 1; n <= Count(); n++ {
		if got := strings.Count(pages[n], "\n### Exercise "); got != exercises[n] {
			t.Errorf("lab-%d.md has %d exercise headings, lab check knows %d", n, got, exercises[n])
		}
		if exercises[n] < 2 || exercises[n] > 4 {
			t.Errorf("lab %d has %d exercises; every lab has 2 to 4", n, exercises[n])
		}
		for k := 1; k <= exercises[n]; k++ {
			if _, ok := headings[heading{n, true, k}]; !ok {
				t.Errorf("lab %d's exercises are not numbered 1 to %d", n, exercises[n])
			}
		}
	}
}

func TestTightenedGateIsFoundInTheReason(t *testing.T) {
	defaults := gateDefaults()
	for _, tc := range []struct {
		reason, name, value string
	}{
		{"out-of-time Gini 0.3921 is below the floor 0.4500", "CLAIMRISK_MIN_GINI", "0.4500"},
		{"out-of-time Gini 0.1500 is below the floor 0.2000", "", ""},
		{"out-of-time AUC 0.6400 is below the floor 0.6500", "CLAIMRISK_MIN_AUC", "0.6500"},
		{"neither ranks better (Gini 0.4100 against champion v1's 0.4061, margin 0.0500) nor fits better (log loss 0.3080 against 0.3085, margin 1.0%), on the same 2000 policies",
			"CLAIMRISK_PROMOTION_MARGIN", "0.0500"},
		{"neither ranks better (Gini 0.4100 against champion v1's 0.4061, margin 0.0050) nor fits better (log loss 0.3080 against 0.3085, margin 5.0%), on the same 2000 policies",
			"CLAIMRISK_PROMOTION_LOG_LOSS_MARGIN", "5.0"},
		{"neither ranks better (Gini 0.4100 against champion v1's 0.4061, margin 0.0050) nor fits better (log loss 0.3080 against 0.3085, margin 1.0%), on the same 2000 policies", "", ""},
		{"mean prediction 0.1200 is 0.0150 away from the observed claim rate 0.1050 (at most 0.0100 allowed)", "CLAIMRISK_MAX_CALIBRATION_ERROR", "0.0100"},
	} {
		name, value, ok := tightened(tc.reason, defaults)
		if ok != (tc.name != "") || name != tc.name || value != tc.value {
			t.Errorf("tightened(%q) = %q, %q, %v; want %q, %q", tc.reason, name, value, ok, tc.name, tc.value)
		}
	}
}
