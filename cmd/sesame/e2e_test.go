package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The end-to-end tests run the built binaries as an operator would: sesame
// against sesame-sim through AWS_ENDPOINT_URL, and sesame --demo.

var (
	buildOnce         sync.Once
	sesameBin, simBin string
	buildErr          error
	binDir            string
)

func binaries(t *testing.T) (string, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "sesame-e2e-bin-")
		if buildErr != nil {
			return
		}
		sesameBin = filepath.Join(binDir, "sesame")
		simBin = filepath.Join(binDir, "sesame-sim")
		for bin, pkg := range map[string]string{sesameBin: ".", simBin: "../sesame-sim"} {
			out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return sesameBin, simBin
}

// e2eParallel is how many tests of this package run at once when -parallel
// is not given. Go's default is GOMAXPROCS (2 on CI), but these tests spend
// their time waiting on child processes (sesame, sesame-sim, tmux), not
// computing, so more of them overlap with little contention.
const e2eParallel = "16"

func TestMain(m *testing.M) {
	flag.Parse()
	given, fuzzing := false, false
	flag.Visit(func(f *flag.Flag) {
		given = given || f.Name == "test.parallel"
		fuzzing = fuzzing || f.Name == "test.fuzz"
	})
	// -parallel is also how many workers -fuzz starts: a fuzz target
	// computes, so it keeps Go's default of one worker a core.
	if !given && !fuzzing {
		// m.Run reads -test.parallel when it starts the tests, so a value
		// set here applies; an explicit -parallel still wins.
		if err := flag.Set("test.parallel", e2eParallel); err != nil {
			fmt.Fprintln(os.Stderr, "setting -test.parallel:", err)
			os.Exit(2)
		}
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// simProc is a running sesame-sim.
type simProc struct {
	url, dns, smtp, cert string
	smtps                string // the implicit-TLS endpoint, when extra has --smtps
	cmd                  *exec.Cmd
	mu                   sync.Mutex
	log                  []string
	smtpLog              []string // sesame-sim's SMTP session lines
}

// simWaits are the sesame-sim flags that make the dns and verification
// steps wait as they do against AWS: each Route 53 change PENDING for 1 s
// (the dns step polls GetChange every 2 s) and SES verifying the domain 1 s
// after it first sees the DKIM records (the verification step polls every
// 5 s). A test that looks at those waits (their progress lines, the TUI's
// waiting screen, exit 3 with --no-wait, a signal or a call budget during
// them) passes simWaits to startSim; later flags win, so a test may follow
// it with its own delays.
var simWaits = []string{"--verify-delay", "1s", "--change-delay", "1s"}

// startSim starts sesame-sim with extra flags and a seed file holding a
// public zone for example.com with the operator's own MX and TXT records.
// Unless extra says otherwise (see simWaits), Route 53 changes are INSYNC
// and identities verified as soon as their records are in the zone: a run
// then waits for nothing it does not test, saving ~9 s per onboarding.
func startSim(t *testing.T, extra ...string) *simProc {
	t.Helper()
	_, sim := binaries(t)
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	writeFile(t, seed, `{"zones":[{"name":"example.com","records":[
	  {"name":"example.com","type":"MX","ttl":300,"values":["10 mx1.mail-provider.example.","20 mx2.mail-provider.example."]},
	  {"name":"example.com","type":"TXT","ttl":300,"values":["\"google-site-verification=abc123\"","\"v=spf1 include:_spf.mail-provider.example ~all\""]}
	]}]}`)
	p := &simProc{cert: filepath.Join(dir, "smtp.pem")}
	args := append([]string{"--listen", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--smtp-cert-out", p.cert,
		"--verify-delay", "0s", "--change-delay", "0s", "--seed-file", seed}, extra...)
	p.cmd = exec.Command(sim, args...)
	stdout, _ := p.cmd.StdoutPipe()
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			// SMTP session lines ("smtp AUTH <key id> 235") are kept
			// apart: log counts API requests.
			if line := sc.Text(); strings.HasPrefix(line, "smtp ") {
				p.smtpLog = append(p.smtpLog, line)
			} else {
				p.log = append(p.log, line)
			}
			p.mu.Unlock()
		}
	}()
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		line := sc.Text()
		switch {
		case p.url == "":
			p.url = strings.TrimSpace(line)
		case strings.HasPrefix(line, "dns "):
			p.dns = strings.TrimSpace(strings.TrimPrefix(line, "dns "))
		case strings.HasPrefix(line, "smtp "):
			p.smtp = strings.TrimSpace(strings.TrimPrefix(line, "smtp "))
		case strings.HasPrefix(line, "smtps "):
			p.smtps = strings.TrimSpace(strings.TrimPrefix(line, "smtps "))
		}
		if p.url != "" && p.dns != "" && p.smtp != "" && (p.smtps != "" || !slices.Contains(extra, "--smtps")) {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if !strings.HasPrefix(p.url, "http://") || p.dns == "" || p.smtp == "" {
		t.Fatalf("sesame-sim did not announce its endpoints: url=%q dns=%q smtp=%q", p.url, p.dns, p.smtp)
	}
	return p
}

// mutating returns the log lines of successful mutating calls.
func (p *simProc) mutating() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.log {
		f := strings.Fields(l)
		if len(f) == 3 && f[2] == "200" && isMutating(f[1]) {
			out = append(out, l)
		}
	}
	return out
}

// waitSMTPLog waits up to 5 s for the SMTP session line want and
// returns every SMTP line so far.
func (p *simProc) waitSMTPLog(want string) (lines []string, found bool) {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p.mu.Lock()
		lines = slices.Clone(p.smtpLog)
		p.mu.Unlock()
		if slices.Contains(lines, want) || time.Now().After(deadline) {
			return lines, slices.Contains(lines, want)
		}
	}
}

func (p *simProc) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

func isMutating(op string) bool {
	for _, pre := range []string{"Create", "Put", "Delete", "Change", "Tag", "Update"} {
		if strings.HasPrefix(op, pre) {
			return true
		}
	}
	return false
}

type result struct {
	code           int
	stdout, stderr string
}

// sesame runs the binary against the simulator with a fresh-looking
// environment: no real AWS configuration can leak in.
func (p *simProc) sesame(t *testing.T, home string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return runProcess(t, p.command(ctx, t, home, args...))
}

// runProcess runs cmd to its end and returns its exit code and output.
func runProcess(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, so.String(), se.String()}
}

// command is the sesame command sesame() runs, for tests that start it
// and signal or kill it while it runs.
func (p *simProc) command(ctx context.Context, t *testing.T, home string, args ...string) *exec.Cmd {
	t.Helper()
	bin, _ := binaries(t)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=dumb",
		"AWS_ENDPOINT_URL=" + p.url, "AWS_ACCESS_KEY_ID=AKIAOPERATOR00000000", "AWS_SECRET_ACCESS_KEY=operator-secret-key-0000000000000000000000",
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "nonexistent"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "nonexistent"),
		"SESAME_RESOLVER=" + p.dns, "SESAME_SMTP_ENDPOINT=" + p.smtp, "SESAME_SMTP_CA=" + p.cert,
	}
	return cmd
}

type report struct {
	Domain, Region, Account string
	Steps                   []struct{ ID, Status, Detail string }
	Sandbox                 map[string]any
	SMTP                    *struct {
		Host     string
		Port     int
		Username string
	}
	Files []string
}

func parseReport(t *testing.T, r result) report {
	t.Helper()
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return rep
}

// From nothing to verified with credentials on disk; the operator's MX and
// TXT records survive; a second run and status change nothing.
func TestEndToEndOnboarding(t *testing.T) {
	t.Parallel()
	// The real polling path: GetChange until INSYNC, GetEmailIdentity
	// until verified.
	sim := startSim(t, simWaits...)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	args := []string{"--no-input", "--yes", "--json", "--domain", "Example.COM.", "--region", "us-east-1", "--mail-from", "mail", "--dmarc", "--out", out}
	r := sim.sesame(t, home, args...)
	if r.code != 0 {
		t.Fatalf("first run exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rep := parseReport(t, r)
	want := map[string]string{"account": "done", "smtp-user": "done", "identity": "done", "dns": "done", "inbound-mx": "skipped", "verification": "done", "sandbox": "done", "relay": "done"}
	if len(rep.Steps) != len(want) {
		t.Fatalf("steps = %+v", rep.Steps)
	}
	for _, s := range rep.Steps {
		if want[s.ID] != s.Status {
			t.Errorf("step %s = %s (%s), want %s", s.ID, s.Status, s.Detail, want[s.ID])
		}
	}
	if rep.Domain != "example.com" || rep.SMTP == nil || rep.SMTP.Host != "email-smtp.us-east-1.amazonaws.com" || !strings.HasPrefix(rep.SMTP.Username, "AKIA") {
		t.Fatalf("report = %+v", rep)
	}
	// The password is on disk, 0600 in a 0700 directory, and nowhere else.
	entry := readFile(t, filepath.Join(out, "sasl_passwd"))
	fields := strings.Fields(lastLine(entry))
	password := fields[len(fields)-1][strings.Index(fields[len(fields)-1], ":")+1:]
	if len(password) != 44 || password[0] != 'B' {
		t.Fatalf("sasl_passwd line %q does not hold a v4 SMTP password", lastLine(entry))
	}
	assertMode(t, filepath.Join(out, "sasl_passwd"), 0o600)
	assertMode(t, out, 0o700)
	assertNowhere(t, password, home, r.stdout+r.stderr, filepath.Join(out, "sasl_passwd"))
	// The login test reached the simulated SES: its SMTP log shows the
	// key's AUTH accepted, and never the password.
	smtpLines, ok := sim.waitSMTPLog("smtp AUTH " + rep.SMTP.Username + " 235")
	if !ok || strings.Contains(strings.Join(smtpLines, "\n"), password) {
		t.Errorf("the simulator's SMTP log lacks \"smtp AUTH %s 235\" or shows the password:\n%s", rep.SMTP.Username, strings.Join(smtpLines, "\n"))
	}
	firstCalls := sim.mutating()

	r2 := sim.sesame(t, home, args...)
	if r2.code != 0 {
		t.Fatalf("second run exit %d\n%s", r2.code, r2.stderr)
	}
	if again := sim.mutating(); len(again) != len(firstCalls) {
		t.Fatalf("second run made mutating calls: %v", again[len(firstCalls):])
	}
	st := sim.sesame(t, home, "status", "--json", "--domain", "example.com", "--region", "us-east-1")
	if st.code != 0 {
		t.Fatalf("status exit %d\n%s\n%s", st.code, st.stdout, st.stderr)
	}
	if again := sim.mutating(); len(again) != len(firstCalls) {
		t.Fatalf("status made mutating calls: %v", again[len(firstCalls):])
	}
	t.Logf("first run: %d mutating calls: %v", len(firstCalls), firstCalls)
}

func TestEndToEndExitCodes(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simWaits...) // --no-wait must find verification pending

	home := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		text string
	}{
		{"missing domain names the flag", []string{"--no-input", "--region", "us-east-1"}, 2, "--domain"},
		{"bad domain names the field", []string{"--no-input", "--domain", "https://example.com/", "--region", "us-east-1"}, 2, "domain"},
		{"region without SMTP lists the valid ones", []string{"--no-input", "--domain", "example.com", "--region", "eu-central-2"}, 2, "us-east-1"},
		{"changes without --yes: plan shown, exit 2", []string{"--no-input", "--domain", "example.com", "--region", "us-east-1", "--out", filepath.Join(home, "o1")}, 2, "--yes"},
		{"unknown profile names the flag", []string{"--no-input", "--profile", "no-such-profile", "--domain", "example.com", "--region", "us-east-1"}, 2, "--profile"},
		{"unknown flag suggests the closest", []string{"--domian", "example.com"}, 2, "--domain"},
		{"--no-wait stops pending with exit 3", []string{"--no-input", "--yes", "--no-wait", "--domain", "example.com", "--region", "us-east-1", "--out", filepath.Join(home, "o2")}, 3, "resume"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sim.sesame(t, home, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.text) {
				t.Fatalf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, tt.text, r.stdout, r.stderr)
			}
		})
	}
}

func TestEndToEndDemo(t *testing.T) {
	t.Parallel()
	bin, _ := binaries(t)
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--demo", "--no-input", "--yes", "--json", "--domain", "demo.example", "--region", "eu-west-1")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_PROFILE=does-not-exist", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, so.String(), se.String())
	}
	rep := parseReport(t, result{0, so.String(), se.String()})
	for _, s := range rep.Steps {
		if s.Status != "done" && s.Status != "skipped" {
			t.Errorf("demo step %s = %s: %s", s.ID, s.Status, s.Detail)
		}
	}
	if !strings.Contains(se.String(), "DEMO") {
		t.Errorf("demo output does not say DEMO:\n%s", se.String())
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != want {
		t.Fatalf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
	}
}

// assertNowhere fails if secret appears in output or any file under root
// other than the allowed ones.
func assertNowhere(t *testing.T, secret, root, output string, allowed ...string) {
	t.Helper()
	if strings.Contains(output, secret) {
		t.Fatal("the SMTP password appeared in sesame's output")
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || ok[p] {
			return nil
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
			t.Errorf("the SMTP password is in %s", p)
		}
		return nil
	})
}

// --dry-run shows every step's plan, changes nothing and exits 0.
func TestEndToEndDryRun(t *testing.T) {
	t.Parallel()
	sim := startSim(t)
	home := t.TempDir()
	r := sim.sesame(t, home, "--no-input", "--dry-run", "--domain", "example.com", "--region", "us-east-1", "--mail-from", "mail", "--out", filepath.Join(home, "out"))
	if r.code != 0 {
		t.Fatalf("dry run exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"dry run: SMTP user", "dry run: create the SES identity", "dry run: publish the DKIM records", "dry run: write the Postfix relay files"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if m := sim.mutating(); len(m) != 0 {
		t.Fatalf("dry run made changes: %v", m)
	}
	if _, err := os.Stat(filepath.Join(home, "out", "sasl_passwd")); err == nil {
		t.Fatal("dry run wrote sasl_passwd")
	}
}
