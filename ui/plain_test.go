package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/teatest"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
)

// TestPlainReporter runs the fake wizard with the plain reporter and the
// line prompter answering from a script, and compares the exact output
// with testdata/TestPlainReporter.golden.
func TestPlainReporter(t *testing.T) {
	var out, prompts bytes.Buffer
	p := NewPlain(&out, false)
	lp := &LinePrompter{In: strings.NewReader("example.com\n\ny\ny\nn\n"), Out: &prompts}
	s := &script{}
	rep, err := s.run(context.Background(), lp, p.Event)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	PrintSummary(&out, rep, nil, false)
	got := out.String()
	for _, bad := range []string{testPassword, "\x1b["} {
		if strings.Contains(got, bad) || strings.Contains(prompts.String(), bad) {
			t.Errorf("output holds %q", bad)
		}
	}
	teatest.RequireEqualOutput(t, out.Bytes())
}

func TestPlainColor(t *testing.T) {
	var out bytes.Buffer
	NewPlain(&out, true).Event(steps.Event{Kind: steps.EventStepFinished, Step: "dns", Status: steps.StatusDone, Detail: "ok"})
	if !strings.Contains(out.String(), "\x1b[") || !strings.Contains(out.String(), "dns  ok") {
		t.Fatalf("color=true gives %q, want ANSI colour around the mark", out.String())
	}
}

func TestPlainLines(t *testing.T) {
	tests := []struct {
		name string
		e    steps.Event
		want string
	}{
		{"done", steps.Event{Kind: steps.EventStepFinished, Step: "account", Status: steps.StatusDone, Detail: "account 123456789012 in eu-west-1"}, "✓ account  account 123456789012 in eu-west-1\n"},
		{"skipped", steps.Event{Kind: steps.EventStepFinished, Step: "inbound-mx", Status: steps.StatusSkipped, Detail: "MX left alone"}, "⚠ inbound-mx  skipped: MX left alone\n"},
		{"a detail that says skipped is not prefixed twice", steps.Event{Kind: steps.EventStepFinished, Step: "inbound-mx", Status: steps.StatusSkipped, Detail: "skipped on purpose: MX left alone"}, "⚠ inbound-mx  skipped on purpose: MX left alone\n"},
		{"warning", steps.Event{Kind: steps.EventWarning, Step: "account", Detail: "you are the root user"}, "! account: you are the root user\n"},
		{"retry", steps.Event{Kind: steps.EventRetrying, Step: "dns", Attempt: 2, MaxAttempts: 5, Detail: "throttled by Route 53"}, "… retrying (2/5): throttled by Route 53\n"},
		{"credentials are masked", steps.Event{Kind: steps.EventData, Data: &steps.Credentials{UserName: "u", AccessKeyID: "AKIA1", Host: "h", Port: 587, Password: "s3cret", File: "/o/sasl_passwd"}},
			"  SMTP username AKIA1\n  SMTP password ••••••••\n  password saved in /o/sasl_passwd (mode 0600)\n"},
		{"failure with a hint", steps.Event{Kind: steps.EventStepFinished, Step: "dns", Status: steps.StatusFailed, Err: &awsapi.Error{Op: "route53:GetChange", Code: "AccessDenied", Hint: "ask for it"}},
			"✗ dns  route53:GetChange failed: AccessDenied\n  → ask for it\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			NewPlain(&out, false).Event(tt.e)
			if out.String() != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", out.String(), tt.want)
			}
		})
	}
}

// TestPlainPlanFitsWidth: with the terminal's width, a plan too wide for
// a table is listed change by change within it; without, the table keeps
// its full width (for logs and copying).
func TestPlainPlanFitsWidth(t *testing.T) {
	for _, width := range []int{0, 80} {
		var out bytes.Buffer
		p := NewPlain(&out, false)
		p.Width = width
		p.Event(steps.Event{Kind: steps.EventPlan, Step: "dns", Plan: dnsPlan()})
		widest := 0
		for _, l := range strings.Split(out.String(), "\n") {
			widest = max(widest, len([]rune(l)))
		}
		switch {
		case width == 0 && widest <= 80:
			t.Errorf("without a width the table was narrowed to %d", widest)
		case width > 0 && widest > width:
			t.Errorf("at %d columns a line is %d wide:\n%s", width, widest, out.String())
		}
		if !strings.Contains(out.String(), "abcdefghijklmnopqrstuvwxyz234567._domainkey.example.com") {
			t.Errorf("width %d: a name is cut:\n%s", width, out.String())
		}
	}
}
