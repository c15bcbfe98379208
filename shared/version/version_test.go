package version

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	const rev = "b7bc3cf0c0ffee1234567890abcdef0123456789" // 40 hex digits, as git's
	settings := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	tests := []struct {
		name   string
		commit string
		info   *debug.BuildInfo
		want   string
	}{
		{"ldflags win over the stamp", "0123456789ab", settings("vcs.revision", rev), "0123456789ab"},
		{"ldflags without build info", "0123456789ab", nil, "0123456789ab"},
		{"stamped revision, shortened", "dev", settings("vcs", "git", "vcs.revision", rev, "vcs.modified", "false"), "b7bc3cf0c0ff"},
		{"stamped revision of a changed tree", "dev", settings("vcs.revision", rev, "vcs.modified", "true"), "b7bc3cf0c0ff-dirty"},
		{"empty ldflags value", "", settings("vcs.revision", rev), "b7bc3cf0c0ff"},
		{"short revision kept whole", "dev", settings("vcs.revision", "abc123"), "abc123"},
		{"no stamp: a copy without .git", "dev", settings("-trimpath", "true"), "dev"},
		{"modified without a revision", "dev", settings("vcs.modified", "true"), "dev"},
		{"no build info", "dev", nil, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := resolve(tt.commit, tt.info); got != tt.want {
				t.Errorf("resolve(%q, %v) = %q, want %q", tt.commit, tt.info, got, tt.want)
			}
		})
	}
}

// TestBuild builds a binary that prints Commit and String the way the
// Makefile and a build without version control information do.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	const pkg = "github.com/claimrisk/claimrisk/shared/version"
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"Makefile's ldflags", []string{"-ldflags", "-s -w -X " + pkg + ".Commit=0123456789ab"}, "0123456789ab 0123456789ab"},
		{"no ldflags, no version control", []string{"-buildvcs=false"}, "dev dev"},
		{"ldflags dev, no version control", []string{"-buildvcs=false", "-ldflags", "-X " + pkg + ".Commit=dev"}, "dev dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "printversion")
			args := append([]string{"build", "-o", bin}, tt.flags...)
			build := exec.Command("go", append(args, "./testdata/printversion")...)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go %s: %v\n%s", strings.Join(build.Args[1:], " "), err, out)
			}
			out, err := exec.Command(bin).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(out)); got != tt.want {
				t.Errorf("Commit, String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTestBinaryIsDev(t *testing.T) {
	t.Parallel()
	// The go command stamps no version control information into test
	// binaries, so tests see "dev" unless they set Commit.
	if got := String(); got != "dev" {
		t.Errorf("String() = %q in a test binary, want dev", got)
	}
}
