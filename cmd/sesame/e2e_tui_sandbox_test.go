package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTUISandboxTestMail: the sandbox step offers what --test-to and
// --verify-recipient do, once, each choice and each fact said once. The
// mailbox simulator sends the relay step's test message there; an address
// of the operator's, typed in the TUI, is verified first (sesame-sim opens
// its link after --verify-delay) and then mailed. sesame-sim's SMTP
// endpoint takes the message, and the end screen says SES accepted it.
func TestTUISandboxTestMail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		choose func(p *tmuxPane)
		to     string
	}{
		{"the mailbox simulator", func(p *tmuxPane) { p.keys("Enter") }, "success@simulator.amazonses.com"},
		{"an address of the operator's", func(p *tmuxPane) {
			p.keys("Down", "Enter")
			p.waitFor(10*time.Second, "Your address for the test message", "(next time: --verify-recipient and --test-to)")
			p.typeText("ops@example.org")
			p.keys("Enter")
		}, "ops@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t)
			p := startTmux(t, 80, 24, simTUIEnv(sim), "--domain", "example.com", "--region", "us-east-1", "--smtp-user", "ses-smtp-example-com", "--mail-from", "mail", "--dmarc", "--yes")
			p.waitFor(40*time.Second, "Request SES production access now? [y/N]")
			p.keys("n")
			s := p.waitFor(10*time.Second, "Send a test message once the relay works?", "(next time: --test-to)")
			checkLayout(t, "offer", s)
			for _, once := range []string{"› SES mailbox simulator", "success@simulator.amazonses.com", "An address of yours", "No test message", "verified addresses"} {
				if n := strings.Count(s, once); n != 1 {
					t.Errorf("the offer shows %q %d times, want once:\n%s", once, n, s)
				}
			}
			tt.choose(p)
			s = p.waitFor(60*time.Second, "Finished", "q quit")
			if flat := strings.Join(strings.Fields(s), " "); !strings.Contains(flat, "test message to "+tt.to+" accepted by SES") {
				t.Errorf("the end screen does not say the test message was accepted:\n%s", s)
			}
			lines, ok := sim.waitSMTPLog("smtp RCPT 250 <" + tt.to + ">")
			if !ok || !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "smtp DATA 250 ") }) {
				t.Errorf("sesame-sim's SMTP endpoint did not accept a message to %s:\n%s", tt.to, strings.Join(lines, "\n"))
			}
			p.keys("q")
			if code := p.exitCode(); code != 0 {
				t.Errorf("exit %d after q on the Finished screen, want 0", code)
			}
		})
	}
}
