package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
)

// logLines is an io.Writer that keeps the simulator's request lines in a
// simProc's log, as the sesame-sim process's stderr would.
type logLines struct{ p *simProc }

func (l logLines) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		l.p.log = append(l.p.log, line)
	}
	return len(b), nil
}

// startSimInProcess serves an awssim.Sim from the test process (with the
// same example.com zone as startSim), so the test can ask it for the
// secret access keys it issued.
func startSimInProcess(t *testing.T) (*simProc, *awssim.Sim) {
	t.Helper()
	binaries(t) // builds sesame; skips with -short like the other end-to-end tests
	dir := t.TempDir()
	p := &simProc{cert: filepath.Join(dir, "smtp.pem")}
	sim := awssim.New(awssim.Options{VerifyDelay: time.Second, Log: logLines{p}})
	if _, err := sim.EnsureDemoZone("example.com"); err != nil {
		t.Fatal(err)
	}
	var stop func()
	var err error
	if p.url, stop, err = sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if p.dns, stop, err = sim.ServeDNS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if p.smtp, stop, err = sim.ServeSMTP(awssim.SMTPConfig{Addr: "127.0.0.1:0", CertOut: p.cert}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return p, sim
}

// The IAM secret access key is written nowhere and printed nowhere; the
// SMTP password is only in sasl_passwd; --debug shows no credential,
// signature or session token; and under umask 0 the secret files are
// still 0600 in 0700 directories. Every file under HOME (state, relay
// files) and all output of a full run (--debug --json), a second run
// (--debug, plain) and status are scanned.
func TestSecretsGoNowhereElse(t *testing.T) {
	t.Parallel()
	sim, aws := startSimInProcess(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	const sessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0000000000"
	run := func(args ...string) result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := sim.command(ctx, t, home, args...)
		// umask 0: whatever sesame writes must set its own modes.
		cmd.Args = append([]string{"sh", "-c", `umask 0 && exec "$0" "$@"`}, cmd.Args...)
		cmd.Path = "/bin/sh"
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+sessionToken)
		return runProcess(t, cmd)
	}
	first := run(onboardArgs(out, "--debug")...)
	assertComplete(t, first)
	second := run("--no-input", "--yes", "--debug", "--domain", "example.com", "--region", "us-east-1", "--out", out)
	if second.code != 0 {
		t.Fatalf("second run exit %d\n%s", second.code, second.stderr)
	}
	status := run("status", "--json", "--domain", "example.com", "--region", "us-east-1")
	if status.code != 0 {
		t.Fatalf("status exit %d\n%s", status.code, status.stderr)
	}
	output := first.stdout + first.stderr + second.stdout + second.stderr + status.stdout + status.stderr
	if !strings.Contains(first.stderr, "debug: ") {
		t.Fatalf("--debug logged no request:\n%s", first.stderr)
	}

	keyID := parseReport(t, first).SMTP.Username
	secretKey, ok := aws.SecretForKey(keyID)
	if !ok {
		t.Fatalf("the simulator did not issue key %s", keyID)
	}
	sasl := filepath.Join(out, "sasl_passwd")
	fields := strings.Fields(lastLine(readFile(t, sasl)))
	password := fields[len(fields)-1][strings.Index(fields[len(fields)-1], ":")+1:]

	secrets := []struct {
		name, value string
		allowedIn   string
	}{
		{"the IAM secret access key", secretKey, ""},
		{"the SMTP password", password, sasl},
		{"the operator's secret access key", "operator-secret-key-0000000000000000000000", ""},
		{"the operator's session token", sessionToken, ""},
		{"a request signature", "Signature=", ""},
		{"a signing credential", "Credential=", ""},
	}
	var files []string
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 2 {
		t.Fatalf("sesame wrote only %v under HOME", files)
	}
	for _, s := range secrets {
		if strings.Contains(output, s.value) {
			t.Errorf("%s is in sesame's output", s.name)
		}
		for _, f := range files {
			if f == s.allowedIn {
				continue
			}
			if b, _ := os.ReadFile(f); bytes.Contains(b, []byte(s.value)) {
				t.Errorf("%s is in %s", s.name, f)
			}
		}
	}

	// Modes under umask 0: secret-bearing files 0600 in 0700 directories,
	// and nothing anyone else may write.
	states := stateFiles(t, home)
	if len(states) != 1 {
		t.Fatalf("state files: %v", states)
	}
	assertMode(t, sasl, 0o600)
	assertMode(t, out, 0o700)
	assertMode(t, states[0], 0o600)
	assertMode(t, filepath.Dir(states[0]), 0o700)
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o022 != 0 {
			t.Errorf("%s is writable by others (%v) under umask 0", f, fi.Mode().Perm())
		}
	}
}
