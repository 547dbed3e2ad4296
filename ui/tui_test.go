package ui

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/sesame-tool/sesame/steps"
)

// startTUI runs the model over a fake run in a real tea.Program at w x h.
func startTUI(t *testing.T, s *script, w, h int) *teatest.TestModel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // a run still blocked in a question ends with the test
	m := newModel(ctx, TUIOptions{Demo: true}, s.run, asciiRenderer(), false, fixedNow)
	m.copyFn = func(string) error { return nil } // as RunTUI's OSC 52
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func enter(tm *teatest.TestModel) { tm.Send(tea.KeyMsg{Type: tea.KeyEnter}) }

// answerUntil takes the fake run from the start to the screen named by
// stop, answering as an operator would.
func answerUntil(t *testing.T, tm *teatest.TestModel, stop string) {
	t.Helper()
	waitFor(t, tm, "Domain to send from")
	if stop == "question" {
		tm.Type("exa")
		enter(tm)
		waitFor(t, tm, "a domain looks like")
		return
	}
	tm.Type("example.com")
	enter(tm)
	waitFor(t, tm, "SES region")
	enter(tm)
	waitFor(t, tm, "ses-send-examp")
	tm.Send(keyRunes("y"))
	waitFor(t, tm, "_dmarc.example")
	if stop == "plan" {
		return
	}
	tm.Send(keyRunes("y"))
	if stop == "error" {
		waitFor(t, tm, "r retry")
		return
	}
	waitFor(t, tm, "q leaves")
	if stop == "waiting" {
		return
	}
}

// TestTUIGolden keeps the main screens at 80x24 as golden files
// (testdata/TestTUIGolden/*.golden; regenerate with go test ./ui -update).
// The screen is the final model's view without ANSI codes, so the files
// do not depend on how the renderer split its frames.
func TestTUIGolden(t *testing.T) {
	for _, state := range []string{"question", "plan", "waiting", "sandbox", "error", "summary"} {
		t.Run(state, func(t *testing.T) {
			s := &script{gate: make(chan struct{}), fail: state == "error"}
			tm := startTUI(t, s, 80, 24)
			answerUntil(t, tm, state)
			switch state {
			case "sandbox", "summary":
				close(s.gate)
				waitFor(t, tm, "Request production access now?")
				if state == "summary" {
					tm.Send(keyRunes("n"))
					waitFor(t, tm, "Finished")
				}
			}
			tm.Quit()
			m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
			screen := ansi.Strip(m.View())
			assertFits(t, screen, 80, 24)
			teatest.RequireEqualOutput(t, []byte(screen))
		})
	}
}

func TestTUIFullRun(t *testing.T) {
	s := &script{gate: make(chan struct{})}
	tm := startTUI(t, s, 80, 24)
	answerUntil(t, tm, "all")
	close(s.gate)
	waitFor(t, tm, "Request production access now?")
	tm.Send(keyRunes("n"))
	waitFor(t, tm, "Finished")
	tm.Send(keyRunes("q"))
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if m.err != nil || m.report == nil || m.report.Domain != "example.com" || m.report.Region != "eu-west-1" {
		t.Fatalf("after q at the end: err %v, report %+v", m.err, m.report)
	}
	if m.View() != "" {
		t.Error("the live view is not cleared on exit; the summary is printed after it")
	}
}

func TestTUIQuitWhileWaiting(t *testing.T) {
	s := &script{gate: make(chan struct{})}
	tm := startTUI(t, s, 80, 24)
	answerUntil(t, tm, "waiting")
	tm.Send(keyRunes("q"))
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if !errors.Is(m.err, context.Canceled) || steps.ExitCode(m.err) != 130 {
		t.Fatalf("q while waiting returned %v, want context.Canceled (exit 130)", m.err)
	}
}

func TestTUIRetry(t *testing.T) {
	s := &script{fail: true}
	tm := startTUI(t, s, 80, 24)
	answerUntil(t, tm, "error")
	s.fail = false
	tm.Send(keyRunes("r"))
	waitFor(t, tm, "Domain to send from")
	tm.Quit()
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if s.calls != 2 || m.err != nil || m.prompt == nil {
		t.Fatalf("r after a failure: %d runs, err %v, question %v; want a second run asking again", s.calls, m.err, m.prompt)
	}
}
