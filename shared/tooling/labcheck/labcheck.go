// Package labcheck tells whether a workshop lab's outcome exists in this
// environment: the bucket, a running `claimrisk up`, the MLflow server it
// started and the files the exercises write under $CLAIMRISK_HOME. Each
// item is done, to do (naming the step or exercise to revisit) or skipped
// (its outcome lives on a cluster this machine does not reach).
//
// `claimrisk lab check N` prints what Check returns; the command owns the
// arguments, the output and the exit status.
package labcheck

import (
	"context"
	"fmt"
)

// titles are the workshop's labs (docs/labs/lab-N.md).
var titles = []string{
	1: "The use case and the running system",
	2: "Data and a baseline model",
	3: "Experiment tracking and the model registry",
	4: "Serving and deployment",
	5: "Monitoring",
	6: "Automating the lifecycle",
}

// Count is the number of labs; they are numbered from 1.
func Count() int { return len(titles) - 1 }

// Title is lab n's title, or "" when there is no lab n.
func Title(n int) string {
	if n < 1 || n >= len(titles) {
		return ""
	}
	return titles[n]
}

// A heading is a step ("## N. title") or an exercise ("### Exercise L.N:
// title") of a lab page.
type heading struct {
	lab      int
	exercise bool
	n        int
}

// headings are the steps a failed check sends participants back to, and
// every exercise, by lab and number. Tests keep them equal to the headings
// of the lab pages.
var headings = map[heading]string{
	{1, false, 3}: "Start the system",
	{1, true, 1}:  "The routing table",
	{1, true, 2}:  "Ask every part for its health",

	{2, false, 1}: "Generate the insurer's data",
	{2, false, 4}: "Upload the data and watch the training",
	{2, true, 1}:  "Fit the claim model in Python",
	{2, true, 2}:  "What the crash rate adds",

	{3, false, 6}: "Mirror the registry by hand",
	{3, true, 1}:  "Log your run to MLflow",
	{3, true, 2}:  "Register it, with an alias and tags",

	{4, false, 2}: "Ask for predictions",
	{4, false, 3}: "Break the contract on purpose",
	{4, true, 1}:  "Add a field to a request",
	{4, true, 2}:  "A Python client for the API",
	{4, true, 3}:  "Change the autoscaling target on the cluster",

	{5, false, 1}: "Send ordinary traffic and check it",
	{5, false, 3}: "Simulate an accident spike",
	{5, false, 4}: "Open the Evidently dashboard",
	{5, true, 1}:  "A drift scenario of your own",
	{5, true, 2}:  "A fairness question",

	{6, false, 3}: "Let the dataset scan find a dataset",
	{6, false, 4}: "Roll back by hand",
	{6, true, 1}:  "Tighten the promotion gate",
	{6, true, 2}:  "Notify on a rejection",
}

// StepTitle is the title of lab's step n, when a check names it.
func StepTitle(lab, n int) (string, bool) {
	t, ok := headings[heading{lab, false, n}]
	return t, ok
}

// titleOf is the title of a heading; a check that names one the labs do
// not have is a bug in the checker.
func titleOf(h heading) string {
	title, ok := headings[h]
	if !ok {
		panic(fmt.Sprintf("lab %d has no heading %+v", h.lab, h))
	}
	return title
}

// step names a step of a lab for a hint.
func step(lab, n int) string {
	return fmt.Sprintf("lab %d, step %d: %s", lab, n, titleOf(heading{lab, false, n}))
}

// exercise names an exercise for a check line.
func exercise(lab, n int) string {
	return fmt.Sprintf("exercise %d.%d (%s)", lab, n, titleOf(heading{lab, true, n}))
}

// Result is the state of one item a lab leaves behind: what is there, or
// what to do. A skipped item cannot be checked here and counts as neither.
type Result struct {
	OK, Skip bool
	Text     string
}

func done(format string, args ...any) Result {
	return Result{OK: true, Text: fmt.Sprintf(format, args...)}
}
func todo(format string, args ...any) Result {
	return Result{Text: fmt.Sprintf(format, args...)}
}
func skipped(format string, args ...any) Result {
	return Result{Skip: true, Text: fmt.Sprintf(format, args...)}
}

// labs are the checks of each lab: of its steps' outcomes, then of its
// exercises' (lab1.go to lab6.go).
var labs = []struct {
	steps, exercises func(context.Context, *Env) []Result
}{
	1: {checkLab1, exercisesLab1},
	2: {checkLab2, exercisesLab2},
	3: {checkLab3, exercisesLab3},
	4: {checkLab4, exercisesLab4},
	5: {checkLab5, exercisesLab5},
	6: {checkLab6, exercisesLab6},
}

// Check lists lab n's items, its steps' outcomes first and then one or
// more per exercise. It panics when there is no lab n.
func (e *Env) Check(ctx context.Context, n int) []Result {
	if Title(n) == "" {
		panic(fmt.Sprintf("labcheck: no lab %d", n))
	}
	return append(labs[n].steps(ctx, e), labs[n].exercises(ctx, e)...)
}
