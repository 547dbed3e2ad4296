package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestEndToEndOnboardingImplicitTLS: with the relay on SES's implicit-TLS
// port 2465, sesame's login test speaks TLS from the first byte to
// sesame-sim --smtps, whose SMTP log shows the new key's AUTH accepted.
// The port must be 2465 (sesame picks the TLS mode from it), so the test
// skips when something else holds it.
func TestEndToEndOnboardingImplicitTLS(t *testing.T) {
	t.Parallel()
	const addr = "127.0.0.1:2465"
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("%s is taken (%v): the implicit-TLS login test needs that port", addr, err)
	}
	ln.Close()
	sim := startSim(t, "--smtps", addr)
	if sim.smtps != addr {
		t.Fatalf("sesame-sim announced smtps %q, want %s", sim.smtps, addr)
	}
	home := t.TempDir()
	r := sim.sesame(t, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1",
		"--out", filepath.Join(home, "relay"), "--smtp-port", "2465", "--smtp-endpoint", addr)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rep := parseReport(t, r)
	if rep.SMTP == nil || rep.SMTP.Port != 2465 {
		t.Fatalf("report SMTP = %+v, want port 2465", rep.SMTP)
	}
	lines, ok := sim.waitSMTPLog("smtp AUTH " + rep.SMTP.Username + " 235")
	if !ok {
		t.Fatalf("the simulator's SMTP log lacks the login over implicit TLS:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "smtp ERROR") {
			t.Errorf("a connection failed below SMTP: %s", l)
		}
	}
}
