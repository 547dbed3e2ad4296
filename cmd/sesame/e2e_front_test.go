package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rotate and remove run on the wizard's front end (runOnFront): in plain
// mode on a terminal (ACCESSIBLE=1) each plan is printed once, by the
// reporter, and the approval refers to it instead of printing it again.
func TestPlainPlansShownOnce(t *testing.T) {
	t.Parallel()
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	assertComplete(t, sim.sesame(t, home, onboardArgs(out)...))
	env := append(simTUIEnv(sim), "ACCESSIBLE=1")
	for _, c := range []struct {
		cmd, planRow, ask string
	}{
		{"rotate", "IAM's second key slot", "The plan above"},
		{"remove", "sesame's record of what it made; removed last", "Take back all of the above?"},
	} {
		t.Run(c.cmd, func(t *testing.T) {
			p := startTmuxIn(t, home, 200, 60, env, c.cmd, "--domain", "example.com", "--region", "us-east-1", "--state-dir", filepath.Join(home, ".local", "state", "sesame"))
			p.waitFor(60*time.Second, c.ask)
			p.keys("y", "Enter")
			if code := p.exitCode(); code != 0 {
				t.Fatalf("%s exit %d:\n%s", c.cmd, code, p.scrollback())
			}
			all := p.scrollback()
			if n := strings.Count(all, c.planRow); n == 0 {
				t.Errorf("%s's plan is not shown:\n%s", c.cmd, all)
			} else if n != 1 {
				t.Errorf("%s's plan row %q is shown %d times:\n%s", c.cmd, c.planRow, n, all)
			}
		})
	}
}
