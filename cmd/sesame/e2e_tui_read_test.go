package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The TUI shows in full what the operator must read, approve or copy, and
// nothing draws over it: the built sesame in tmux, against sesame-sim.

// simTUIEnv points a tmux-run sesame at the simulator, as simProc.command
// does for piped runs (startTmux gives HOME and the XDG directories).
func simTUIEnv(sim *simProc, extra ...string) []string {
	return append([]string{
		"AWS_ENDPOINT_URL=" + sim.url, "AWS_ACCESS_KEY_ID=AKIAOPERATOR00000000", "AWS_SECRET_ACCESS_KEY=operator-secret-key-0000000000000000000000",
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"SESAME_RESOLVER=" + sim.dns, "SESAME_SMTP_ENDPOINT=" + sim.smtp, "SESAME_SMTP_CA=" + sim.cert,
	}, extra...)
}

// home is the pane's HOME (startTmux's temporary directory).
func (p *tmuxPane) home() string { return filepath.Dir(p.exit) }

// checkLayout fails when a line outside the layout is on screen: the
// header must be the first line, the rule the third, and the help line
// the last, whatever else wrote to the terminal.
func checkLayout(t *testing.T, stage, s string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "sesame") || !strings.HasPrefix(lines[2], "───") {
		t.Errorf("%s: the header is not at the top:\n%s", stage, s)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "quit") && !strings.Contains(last, "help") {
		t.Errorf("%s: the help line is not the last line: %q\n%s", stage, last, s)
	}
	for _, bad := range []string{"WARN", "SDK 20", "debug: ", "falling back to IMDSv1"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s: a stray %q line is on screen:\n%s", stage, bad, s)
		}
	}
}

// manualRecord is one entry of records.json.
type manualRecord struct {
	Name, Type, Value, Purpose string
	TTL                        int64
}

// TestTUINoZoneRecordsInFull: without a hosted zone for the domain, the
// wait screen at 80x24 shows every record to publish, each name and value
// whole on one line; z copies them (OSC 52) as the records.zone lines;
// records.zone and records.json are in --out, and --json lists them.
func TestTUINoZoneRecordsInFull(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simWaits...) // the TUI's waiting screen
	p := startTmux(t, 80, 24, simTUIEnv(sim), "--domain", "nozone.example", "--region", "us-east-1", "--mail-from", "mail", "--dmarc", "--yes", "--smtp-user", "nozone-user")
	p.tmux("set-option", "-g", "set-clipboard", "on")
	s := p.waitFor(30*time.Second, "Publish these records at your DNS host", "z copy records")
	checkLayout(t, "waiting", s)
	out := filepath.Join(p.home(), "data", "sesame", "nozone.example-us-east-1")
	var recs []manualRecord
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, "records.json"))), &recs); err != nil {
		t.Fatalf("records.json: %v", err)
	}
	if len(recs) != 6 {
		t.Fatalf("records.json holds %d records, want 3 DKIM CNAMEs, the MAIL FROM MX and SPF, and DMARC: %+v", len(recs), recs)
	}
	lines := strings.Split(s, "\n")
	hasLine := func(want string) bool {
		for _, l := range lines {
			if strings.Contains(strings.Join(strings.Fields(l), " "), want) {
				return true
			}
		}
		return false
	}
	for _, r := range recs {
		for _, want := range []string{r.Type + " " + r.Name, r.Value} {
			if !hasLine(want) {
				t.Errorf("no line of the wait screen shows %q whole:\n%s", want, s)
			}
		}
	}
	for _, l := range lines {
		// Only the marker of notes left out for want of room ("…" alone
		// on its line) may be there: no record line is cut.
		if strings.Contains(l, "…") && strings.TrimSpace(l) != "…" {
			t.Errorf("a line is cut on the wait screen: %q\n%s", l, s)
		}
	}
	zone := readFile(t, filepath.Join(out, "records.zone"))
	for _, r := range recs {
		if !strings.Contains(zone, r.Name+".") {
			t.Errorf("records.zone lacks %s:\n%s", r.Name, zone)
		}
	}
	p.keys("z")
	p.waitFor(5*time.Second, "copied the records")
	if buf := p.tmux("show-buffer"); strings.TrimSpace(buf) != strings.TrimSpace(zone) {
		t.Errorf("z copied %q, want the records.zone lines %q", buf, zone)
	}
	p.keys("q")
	if code := p.exitCode(); code != 130 {
		t.Fatalf("exit code %d after q while waiting, want 130", code)
	}
	back := p.scrollback()
	for _, r := range recs {
		if !strings.Contains(back, r.Name) || !strings.Contains(back, r.Value) {
			t.Errorf("the summary in the scrollback lacks %s %s:\n%s", r.Name, r.Value, back)
		}
	}
	for _, f := range []string{"records.zone", "records.json"} {
		if !strings.Contains(back, filepath.Join(out, f)) {
			t.Errorf("the summary's files lack %s:\n%s", f, back)
		}
	}

	// --json on the same setup lists the records (the same tokens: the
	// identity exists).
	r := sim.sesame(t, p.home(), "--json", "--no-input", "--yes", "--no-wait", "--domain", "nozone.example", "--region", "us-east-1", "--mail-from", "mail", "--dmarc", "--smtp-user", "nozone-user")
	var doc struct {
		Records []struct {
			Name, Type string
			Values     []string
		}
		Files []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("--json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	got := map[string]bool{}
	for _, d := range doc.Records {
		for _, v := range d.Values {
			got[d.Name+" "+d.Type+" "+v] = true
		}
	}
	for _, rec := range recs {
		if !got[rec.Name+" "+rec.Type+" "+rec.Value] {
			t.Errorf("--json lacks the record %s %s %s: %+v", rec.Name, rec.Type, rec.Value, doc.Records)
		}
	}
	if !strings.Contains(strings.Join(doc.Files, " "), "records.zone") {
		t.Errorf("--json files lack records.zone: %v", doc.Files)
	}
}

// TestTUINothingDrawsOver: with no credentials (the SDK warns that it falls
// back to IMDSv1) and with --debug, the screen stays the TUI's: header on
// top, help line at the bottom, no log line anywhere; --debug says where
// its log is, and the log has the requests.
func TestTUINothingDrawsOver(t *testing.T) {
	t.Parallel()
	t.Run("no credentials", func(t *testing.T) {
		t.Parallel()
		// An instance metadata service that refuses a token: the SDK logs
		// "falling back to IMDSv1", then finds no role.
		imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }))
		t.Cleanup(imds.Close)
		p := startTmux(t, 80, 24, []string{"AWS_REGION=us-east-1", "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"},
			"--domain", "shop.example", "--region", "us-east-1", "--smtp-user", "u", "--mail-from", "", "--dmarc=false")
		s := p.waitFor(30*time.Second, "failed", "r retry")
		checkLayout(t, "no credentials", s)
		flat := strings.Join(strings.Fields(s), " ")
		for _, want := range []string{"no AWS credentials were found", "aws configure", "sesame --demo"} {
			if !strings.Contains(flat, want) {
				t.Errorf("the error screen lacks %q:\n%s", want, s)
			}
		}
		for _, bad := range []string{"operation error", "StatusCode", "failed to refresh cached credentials"} {
			if strings.Contains(flat, bad) {
				t.Errorf("the SDK's text %q is on screen before d asks for it:\n%s", bad, s)
			}
		}
		p.keys("d")
		p.waitFor(5*time.Second, "As the AWS SDK said it")
		p.keys("q")
		if code := p.exitCode(); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
	})
	t.Run("--debug", func(t *testing.T) {
		t.Parallel()
		p := startTmux(t, 80, 24, nil, "--demo", "--debug")
		check := func(stage, s string) { t.Helper(); checkLayout(t, stage, s) }
		answerQuestions(p, "shop.example", check)
		approvePlans(p, check)
		check("waiting", p.waitFor(15*time.Second, "q leaves"))
		p.keys("q")
		p.exitCode()
		back := p.scrollback()
		_, path, ok := strings.Cut(back, "the --debug log is in ")
		path, _, _ = strings.Cut(path, "\n")
		if !ok || !strings.HasSuffix(path, "debug.log") {
			t.Fatalf("the scrollback does not say where the --debug log is:\n%s", back)
		}
		log := readFile(t, path)
		if !strings.Contains(log, "debug: POST") {
			t.Errorf("the --debug log has no request:\n%s", log)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("the --debug log is not private (0600): %v %v", st.Mode(), err)
		}
	})
}

// TestTUIPasteArrivesWhole: text typed in one burst (as tmux and a paste
// without bracketed paste deliver it) reaches the field whole, even words
// that are the names of keys: up, down, q, j, k, home.
func TestTUIPasteArrivesWhole(t *testing.T) {
	t.Parallel()
	p := startTmux(t, 80, 24, nil, "--demo")
	p.waitFor(10*time.Second, "Which domain will send mail?")
	text := "who sign up on our shop q j k down home"
	p.typeText(text)
	s := p.waitFor(5*time.Second, "> "+text)
	checkLayout(t, "typed", s)
	p.keys("C-c")
	if code := p.exitCode(); code != 130 {
		t.Errorf("exit code %d after Ctrl+C, want 130", code)
	}
}

// TestTUIRetryKeepsDone: r after an injected failure (SES denies
// CreateEmailIdentity) keeps the steps that are done marked done while
// the run checks them again, and titles the failure with its own step.
func TestTUIRetryKeepsDone(t *testing.T) {
	t.Parallel()
	sim := startSim(t, append(simWaits, "--deny", "ses:CreateEmailIdentity", "--latency", "100ms")...)
	p := startTmux(t, 80, 24, simTUIEnv(sim), "--domain", "retry.example", "--region", "us-east-1", "--mail-from", "", "--dmarc=false", "--yes", "--smtp-user", "retry-user")
	s := p.waitFor(30*time.Second, "r retry •")
	for _, want := range []string{"✓ account", "✓ smtp-user", "✗ identity", "Create the SES identity", "failed", "sesame policy"} {
		if !strings.Contains(s, want) && !strings.Contains(strings.Join(strings.Fields(s), " "), want) {
			t.Errorf("error screen lacks %q:\n%s", want, s)
		}
	}
	calls := sim.calls()
	p.keys("r")
	deadline := time.Now().Add(20 * time.Second)
	left := false
	for again := false; !again; {
		s = p.screen(false)
		for _, gone := range []string{" · account ", " · smtp-user "} {
			if strings.Contains("\n"+s, "\n"+gone) {
				t.Fatalf("r put a done step back to to-do (%q):\n%s", gone, s)
			}
		}
		// The run went again (r retry left the screen, AWS was asked
		// again) and stopped at the same step.
		left = left || !strings.Contains(s, "r retry •")
		again = left && strings.Contains(s, "r retry •") && strings.Contains(s, "✗ identity") && sim.calls() > calls
		if time.Now().After(deadline) {
			t.Fatalf("the retried run did not end:\n%s", s)
		}
		time.Sleep(30 * time.Millisecond)
	}
	p.keys("q")
	p.exitCode()
}

// TestStatusNotStartedIsLeftToDo: sesame status on a setup nothing was
// done for yet exits 3 (left to do), not 1 (failed).
func TestStatusNotStartedIsLeftToDo(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simWaits...) // the TUI's waiting screen
	r := sim.sesame(t, t.TempDir(), "status", "--domain", "fresh.example", "--region", "us-east-1")
	if r.code != 3 {
		t.Errorf("status of an unstarted setup exits %d, want 3:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestTUIFinishedHoldsNoLock: while a run sits on its Finished screen the
// setup's lock is free: another sesame on the same setup runs at once
// instead of being told the setup is in use.
func TestTUIFinishedHoldsNoLock(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simWaits...) // the TUI's waiting screen
	out := filepath.Join(t.TempDir(), "relay")
	p := startTmux(t, 80, 24, simTUIEnv(sim), "--domain", "example.com", "--region", "us-east-1", "--smtp-user", "ses-smtp-example-com", "--mail-from", "mail", "--dmarc", "--yes", "--out", out, "--test-to", "success@simulator.amazonses.com")
	p.waitFor(40*time.Second, "Request SES production access now? [y/N]")
	p.keys("n")
	p.waitFor(20*time.Second, "Finished")
	// The same setup (the TUI's state directory), unattended. The lock is
	// released as the run returns, before the end screen is drawn; under
	// a loaded machine the screen and the file can be a moment apart, so
	// wait (briefly: the old code held the lock until the TUI quit) until
	// nothing holds it.
	state := filepath.Join(p.home(), "state")
	locks, _ := filepath.Glob(filepath.Join(state, "sesame", "*.lock"))
	for _, l := range locks {
		free := lockIsFree(l)
		for end := time.Now().Add(5 * time.Second); !free() && time.Now().Before(end); {
			time.Sleep(50 * time.Millisecond)
		}
	}
	r := sim.sesame(t, p.home(), append(onboardArgs(out), "--state-dir", filepath.Join(state, "sesame"))...)
	if r.code != 0 || strings.Contains(r.stderr, "is working on this setup") {
		t.Errorf("a second sesame while the first shows Finished: exit %d\n%s", r.code, r.stderr)
	}
	p.keys("q")
	if code := p.exitCode(); code != 0 {
		t.Errorf("exit %d after q on the Finished screen, want 0", code)
	}
}

// TestTUIShiftTabGoesBack: Shift+Tab on a question goes back to the one
// before, with the earlier answer offered; the new answer is the one used.
func TestTUIShiftTabGoesBack(t *testing.T) {
	t.Parallel()
	p := startTmux(t, 80, 24, nil, "--demo")
	p.waitFor(10*time.Second, "Which domain will send mail?")
	p.typeText("shop.example")
	p.keys("Enter")
	p.waitFor(10*time.Second, "Which SES region?", "shift+tab back")
	p.keys("BTab")
	s := p.waitFor(10*time.Second, "Which domain will send mail?")
	if !strings.Contains(s, "shop.example") {
		t.Errorf("the domain asked again does not offer the earlier answer:\n%s", s)
	}
	p.typeText("other.example")
	p.keys("Enter")
	s = p.waitFor(10*time.Second, "Which SES region?")
	if first := strings.SplitN(s, "\n", 2)[0]; !strings.Contains(first, "other.example") {
		t.Errorf("the header does not show the new answer: %q", first)
	}
	p.keys("C-c")
	p.exitCode()
}

// TestTUIProductionAnswersSurviveCtrlC: the production-access request's
// answers given before Ctrl+C are kept: the next run does not ask them
// again.
func TestTUIProductionAnswersSurviveCtrlC(t *testing.T) {
	t.Parallel()
	sim := startSim(t, simWaits...) // the TUI's waiting screen
	home := t.TempDir()
	args := []string{"--domain", "example.com", "--region", "us-east-1", "--smtp-user", "ses-smtp-example-com", "--mail-from", "mail", "--dmarc", "--yes", "--test-to", "success@simulator.amazonses.com"}
	p := startTmuxIn(t, home, 80, 24, simTUIEnv(sim), args...)
	p.waitFor(40*time.Second, "Request SES production access now? [y/N]")
	p.keys("y")
	p.waitFor(10*time.Second, "What mail will you send?")
	p.keys("Enter")
	p.waitFor(10*time.Second, "Your website's URL")
	p.typeText("https://www.example.com")
	p.keys("Enter")
	p.waitFor(10*time.Second, "How will you send mail, and to whom?")
	p.keys("C-c")
	if code := p.exitCode(); code != 130 {
		t.Fatalf("exit %d after Ctrl+C, want 130", code)
	}

	again := startTmuxIn(t, home, 80, 24, simTUIEnv(sim), args...)
	again.waitFor(40*time.Second, "Request SES production access now? [y/N]")
	again.keys("y")
	// The next question is the use case: the two answered ones never
	// show.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := again.screen(false)
		for _, asked := range []string{"What mail will you send?", "Your website's URL"} {
			if strings.Contains(s, asked) {
				t.Fatalf("%q is asked again after Ctrl+C:\n%s", asked, s)
			}
		}
		if strings.Contains(s, "How will you send mail, and to whom?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the use case is not asked:\n%s", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	again.keys("C-c")
	again.exitCode()
}

// lockIsFree returns a check that the flock on path is free: it takes
// and drops the lock without waiting.
func lockIsFree(path string) func() bool {
	return func() bool {
		f, err := os.Open(path)
		if err != nil {
			return true
		}
		defer f.Close()
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			return false
		}
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return true
	}
}
