// Package funcmain is what the functions share around their own code: the
// --help text (the function's purpose and its environment variables) and
// refusing arguments, since functions are configured by environment; the
// CloudEvent functions' whole main (RunEvents) and their guard and
// lifecycle; the opening of a function's logger and bucket (Open).
package funcmain

import (
	"fmt"
	"io"
	"os"

	"github.com/claimrisk/claimrisk/shared/config"
)

// HandleArgs prints help and exits for -h/--help, and exits with status 2
// on any other argument. spec is the function's envconfig struct.
func HandleArgs(name, summary string, spec any) {
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case "-h", "--help", "help":
		PrintHelp(os.Stdout, name, summary, spec)
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "%s: unexpected argument %q: functions are configured by environment variables; see %s --help\n", name, os.Args[1], name)
		os.Exit(2)
	}
}

// Exit ends a function whose runtime stopped: with status 1 and the error
// in one line when there is one (the runtime itself prints nothing, so a
// port already in use used to end the process without a word).
func Exit(name string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// PrintHelp writes the help text.
func PrintHelp(w io.Writer, name, summary string, spec any) {
	fmt.Fprintf(w, "%s: %s\n\nUsage: %s   (no arguments; listens on LISTEN_ADDRESS, default [::]:8080)\n\n", name, summary, name)
	fmt.Fprintln(w, "Health: GET /health/readiness and /health/liveness.")
	fmt.Fprintln(w, "\nEnvironment:")
	fmt.Fprintln(w, "  LISTEN_ADDRESS\t[::]:8080\taddress to listen on")
	_ = config.Usage(w, spec)
}
