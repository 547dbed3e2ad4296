// Package ui holds sesame's front ends over the step runner: the bubbletea
// TUI (RunTUI), the plain line reporter (Plain), the numbered line prompter
// for screen readers and ACCESSIBLE=1 (LinePrompter), the --json document
// (WriteJSON) and the summary printed when a run ends (PrintSummary).
//
// Nothing here decides what to do: the steps report steps.Event values and
// ask through steps.Prompter, and every front end only renders what comes.
//
//	rep, err := ui.RunTUI(ctx, os.Stdin, os.Stdout, ui.TUIOptions{Domain: d}, run)
//	os.Exit(steps.ExitCode(err))
package ui
