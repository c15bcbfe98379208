package reliability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFuzzScriptRerunsOnlyTheCoordinatorRace holds scripts/fuzz.sh's
// coordinator_race to its job: the one output Go's fuzz coordinator prints when
// its own -fuzztime deadline races a worker (golang/go#75804, as CI printed it
// on 2026-12-05) earns a rerun; a failing input, or a target's own message
// next to the deadline, stays a failure.
func TestFuzzScriptRerunsOnlyTheCoordinatorRace(t *testing.T) {
	cases := []struct {
		name, out string
		race      bool
	}{
		{"coordinator deadline alone", `fuzz: elapsed: 6s, execs: 5445 (0/sec), new interesting: 4 (total: 125)
--- FAIL: FuzzHandle (6.03s)
    context deadline exceeded
FAIL
exit status 1
FAIL	github.com/claimrisk/claimrisk/functions/train	6.047s
`, true},
		{"failing input", `--- FAIL: FuzzHandle (0.10s)
    --- FAIL: FuzzHandle (0.00s)
        fuzzevents.go:36: x event: boom (status 500); want a reply or a 4xx
    Failing input written to testdata/fuzz/FuzzHandle/abc
FAIL
`, false},
		{"deadline of the target's own", `--- FAIL: FuzzHandle (6.03s)
    context deadline exceeded
    fuzzevents.go:36: boom
FAIL
`, false},
		{"seed corpus failure", `--- FAIL: FuzzHandle (0.00s)
    --- FAIL: FuzzHandle/seed#0 (0.00s)
        fuzzevents.go:36: boom
FAIL
`, false},
	}
	script := filepath.Join("..", "..", "scripts", "fuzz.sh")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(out, []byte(c.out), 0o644); err != nil {
				t.Fatal(err)
			}
			// Define the script's function alone and call it on the output.
			cmd := exec.Command("bash", "-c",
				`eval "$(sed -n '/^coordinator_race()/,/^}/p' "$1")" && coordinator_race "$2"`,
				"bash", script, out)
			err := cmd.Run()
			if _, failed := err.(*exec.ExitError); err != nil && !failed {
				t.Fatal(err)
			}
			if race := err == nil; race != c.race {
				t.Errorf("coordinator_race = %v, want %v on:\n%s", race, c.race, strings.TrimSpace(c.out))
			}
		})
	}
}
