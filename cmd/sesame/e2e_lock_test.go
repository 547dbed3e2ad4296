package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitText waits until buf holds text (bounded so a stuck process fails
// the test instead of stalling it).
func waitText(t *testing.T, buf *syncBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(buf.String(), text) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("output never said %q:\n%s", text, buf)
}

// Two sesame processes on one setup: while the first holds the setup's
// lock (stuck in a call the simulator never answers), a second with
// --no-input leaves at once naming the holder, and an interactive one (on
// a terminal) says who holds it and waits; neither writes meanwhile. When
// the first dies (SIGKILL: the kernel drops its lock) the waiting one
// takes over and completes.
func TestSecondProcessOnOneSetup(t *testing.T) {
	t.Parallel()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) from util-linux to give the interactive run a terminal")
	}
	sim := startSim(t, "--hang-after", "CreateEmailIdentity")
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	holder := sim.start(t, home, onboardArgs(out)...)
	sim.waitLog(t, 0, "sesv2 CreateEmailIdentity -")
	files := stateFiles(t, home)
	if len(files) != 1 {
		t.Fatalf("state files while the first run holds the setup: %v", files)
	}
	before := readFile(t, files[0])
	mutated := len(sim.mutating())

	r := sim.sesame(t, home, onboardArgs(out)...)
	if r.code != 1 || !strings.Contains(r.stderr, "another sesame") || !strings.Contains(r.stderr, fmt.Sprintf("pid %d", holder.cmd.Process.Pid)) {
		t.Fatalf("--no-input second run: exit %d, want 1 naming the holder (pid %d)\n%s", r.code, holder.cmd.Process.Pid, r.stderr)
	}

	// The interactive run: plain prompts on a pseudo-terminal (TERM=dumb).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	interactive := sim.command(ctx, t, home, "--yes", "--domain", "example.com", "--region", "us-east-1", "--mail-from", "mail", "--dmarc", "--out", out)
	interactive.Args = []string{"script", "-qefc", strings.Join(interactive.Args, " "), "/dev/null"}
	interactive.Path = script
	stdin, _ := interactive.StdinPipe() // open until the end: script(1) stops at EOF on its input
	defer stdin.Close()
	output := &syncBuffer{}
	interactive.Stdout, interactive.Stderr = output, output
	if err := interactive.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- interactive.Wait() }()
	waitText(t, output, fmt.Sprintf("pid %d", holder.cmd.Process.Pid))
	if !strings.Contains(output.String(), "waiting") {
		t.Fatalf("the interactive run does not say it waits:\n%s", output)
	}
	if after := readFile(t, files[0]); after != before || len(sim.mutating()) != mutated {
		t.Fatalf("a second run wrote while the first held the setup: state changed %v, calls %v", after != before, sim.mutating()[mutated:])
	}

	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	holder.wait(t)
	// Later questions (production access, a recipient to verify): the
	// defaults, which change nothing.
	fmt.Fprint(stdin, strings.Repeat("\n", 8))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the waiting run, after the holder died: %v\n%s", err, output)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the waiting run did not finish:\n%s", output)
	}
	if n := sim.countApplied("CreateEmailIdentity"); n != 1 {
		t.Errorf("CreateEmailIdentity took effect %d times, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(out, "sasl_passwd")); err != nil {
		t.Errorf("no relay files after the waiting run completed: %v", err)
	}
}
