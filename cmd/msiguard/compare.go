package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/window"
)

// anyPathList is a repeatable flag of rule files or directories.
type anyPathList struct{ list *stringList }

func (p anyPathList) String() string {
	if p.list == nil {
		return ""
	}
	return p.list.String()
}

func (p anyPathList) Set(v string) error {
	if _, err := os.Stat(v); err != nil {
		return err
	}
	return p.list.Set(v)
}

// compareShown caps the changes printed on standard output; --compare-out
// has them all.
const compareShown = 50

// runCompare is `backtest --compare`: it replays the input with the rules
// in use (det) and again with the changed ones, and reports the difference
// (backtest.Compare). The second replay reads the same input: the same
// files, or the topic range the first resolved. --out, --dlq and
// --alerts-topic receive the changed rules' output.
func (f *backtestFlags) runCompare(ctx context.Context, det *detector.Detector, opts detector.Options, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(f.compare) == 0 {
		return fmt.Errorf("%w: backtest: --compare-out needs --compare FILE", errUsage)
	}
	for _, in := range f.inputs {
		if in == "-" {
			return fmt.Errorf("%w: backtest: --compare reads the input twice; standard input can be read once: save it to a file", errUsage)
		}
	}
	if f.out == "-" {
		return fmt.Errorf("%w: backtest: with --compare, standard output has the comparison: give --out a FILE for the changed rules' alerts", errUsage)
	}
	if f.emitRevisions {
		return fmt.Errorf("%w: backtest: --compare compares final alerts; it does not combine with --emit-revisions", errUsage)
	}
	changed, err := (&ruleFlags{rulePaths: f.compare, macrosFile: f.macrosFile}).compile()
	if err != nil {
		return err
	}
	newDet, err := detector.New(changed, opts)
	if err != nil {
		return err
	}
	cmpOut, err := createOut("--compare-out", f.compareOut, stdout)
	if err != nil {
		return err
	}

	// The rules in use: no output but the alerts kept for the comparison.
	before := *f
	before.out, before.dlq, before.alertsTopic, before.summaryJSON = "", "", "", ""
	var old, cur []*window.Alert
	oldSum, _, err := before.replayTo(ctx, det, func(a *window.Alert) { old = append(old, a) }, stdin, stdout, stderr)
	if err != nil {
		return fmt.Errorf("backtest: replay with the rules in use: %w", err)
	}
	f.ranges = before.ranges
	newSum, outs, err := f.replayTo(ctx, newDet, func(a *window.Alert) { cur = append(cur, a) }, stdin, stdout, stderr)
	for _, o := range outs {
		if err == nil {
			err = o.commit()
		}
	}
	if err != nil {
		return fmt.Errorf("backtest: replay with the changed rules: %w", err)
	}
	if oldSum.Records != newSum.Records {
		return fmt.Errorf("backtest: the two replays read %d and %d records: the input changed between them", oldSum.Records, newSum.Records)
	}
	if f.summaryJSON != "" {
		if err := writeSummaryJSON(f.summaryJSON, &newSum); err != nil {
			return err
		}
	}
	c := backtest.Compare(old, cur)
	if err := c.WriteJSON(cmpOut.w); err != nil {
		return fmt.Errorf("--compare-out: %w", err)
	}
	if err := cmpOut.commit(); err != nil {
		return err
	}
	if !f.quiet {
		fmt.Fprintf(stderr, "backtest: %d records read twice; the rules in use: %d alerts; the changed rules: %d alerts\n", newSum.Records, oldSum.Alerts, newSum.Alerts)
	}
	return c.WriteText(stdout, compareShown)
}
