package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/tooling/labcheck"
)

// labExecutable finds this command; the function binaries are beside it.
// Tests point it at the binaries they built.
var labExecutable = os.Executable

func (a *app) labCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "lab",
		Short: "Check the workshop's labs",
	}
	check := &cobra.Command{
		Use:   "check N",
		Short: "Tell whether lab N's outcome exists here, and which step to revisit if not",
		Long: `Check looks at what lab N leaves behind in this environment: the bucket,
the running 'claimrisk up' (found through $CLAIMRISK_HOME/up.json) and the
MLflow server it started (else MLFLOW_TRACKING_URI). It prints one line per
item, "ok" or "todo" with the step to revisit, then one line per exercise of
the lab (the exercises write their outcomes to $CLAIMRISK_HOME/exercises,
MLflow and the registry; "skip" when the outcome lives on a cluster this
machine does not reach). It exits with status 1 when something is missing
and names the first unfinished step or exercise.

Labs:
` + labList(),
		Example: "  claimrisk lab check 1\n  claimrisk lab check 3",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || labcheck.Title(n) == "" {
				return usagef("%q is not a lab: give a number from 1 to %d", args[0], labcheck.Count())
			}
			ctx := cmd.Context()
			b, err := a.labBucket(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			binDir := ""
			if exe, err := labExecutable(); err == nil {
				binDir = filepath.Dir(exe)
			}
			env, err := labcheck.Open(ctx, b, binDir, config.Home())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "lab %d: %s\n", n, labcheck.Title(n))
			results := env.Check(ctx, n)
			var firstStep, firstExercise string
			missing, checked := 0, 0
			for _, r := range results {
				mark := "ok  "
				switch {
				case r.Skip:
					mark = "skip"
				case !r.OK:
					mark = "todo"
					missing++
					what, _, _ := strings.Cut(r.Text, ":")
					if strings.HasPrefix(what, "exercise ") {
						firstExercise = cmp.Or(firstExercise, what)
					} else {
						firstStep = cmp.Or(firstStep, r.Text)
					}
				}
				if !r.Skip {
					checked++
				}
				fmt.Fprintf(a.stdout, "%s  %s\n", mark, r.Text)
			}
			switch {
			case firstStep != "":
				return fmt.Errorf("lab %d is not done yet: %d of %d items to do (the todo lines say where)", n, missing, checked)
			case firstExercise != "":
				return fmt.Errorf("lab %d's steps are done, but %s is unfinished (%d of %d items to do)", n, firstExercise, missing, checked)
			}
			fmt.Fprintf(a.stdout, "lab %d is done\n", n)
			return nil
		},
	}
	c.AddCommand(check)
	return c
}

func labList() string {
	var b strings.Builder
	for n := 1; n <= labcheck.Count(); n++ {
		fmt.Fprintf(&b, "  %d  %s\n", n, labcheck.Title(n))
	}
	return b.String()
}

// labBucket is the bucket the checks read. Before 'claimrisk up' has made
// it, nothing in any lab is done yet: the checks read an empty bucket, and
// checking does not make one (a mistyped --bucket would be made too).
func (a *app) labBucket(ctx context.Context) (*blobstore.Bucket, error) {
	b, err := blobstore.OpenExisting(ctx, a.bucketURL)
	if !errors.Is(err, blobstore.ErrNoBucket) {
		return b, err
	}
	url, err := blobstore.Normalize(a.bucketURL)
	if err != nil {
		return nil, err
	}
	if b, err = blobstore.Open(ctx, "mem://"); err != nil {
		return nil, err
	}
	b.URL = url // the messages name the bucket the participant will use
	return b, nil
}
