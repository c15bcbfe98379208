package funcmain_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/claimrisk/claimrisk/shared/tooling/testenv"
)

// A function whose port is taken exits with status 1 and says why in one
// line; it used to exit without a word, which left `claimrisk up` and the
// lab tests with an empty log to read.
func TestAFunctionWhosePortIsTakenSaysWhy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, name := range []string{"predict", "train"} { // the HTTP runtime, and the CloudEvents one
		cmd := exec.Command(testenv.Binary(t, name))
		cmd.Env = append(os.Environ(), "LISTEN_ADDRESS="+l.Addr().String(), "CLAIMRISK_BUCKET=file://"+t.TempDir())
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "address already in use") || !strings.HasPrefix(string(out), name+": ") {
			t.Errorf("%s on a taken port: %v, output %q; want status 1 and a line naming the cause", name, err, out)
		}
	}
}
