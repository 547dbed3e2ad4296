package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The TUI as an operator uses it: the built sesame --demo inside tmux, driven
// with send-keys and read with capture-pane.

// tmuxPane is sesame running in a detached tmux session on a private socket.
type tmuxPane struct {
	t      *testing.T
	socket string
	exit   string // the file the pane writes EXIT=<code> into
}

// startTmux runs the built sesame with args in a w x h tmux pane. env adds
// variables to a clean environment (HOME and XDG dirs are the test's own).
// The pane stays after sesame exits, so the summary it leaves can be read.
func startTmux(t *testing.T, w, h int, env []string, args ...string) *tmuxPane {
	t.Helper()
	return startTmuxIn(t, t.TempDir(), w, h, env, args...)
}

// tmuxSessions numbers the panes, so a test may start several in turn.
var tmuxSessions atomic.Int64

// startTmuxIn is startTmux with the HOME given, so that a second run can
// find what the first left (its state, its files).
func startTmuxIn(t *testing.T, home string, w, h int, env []string, args ...string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux); the TUI end-to-end test needs it")
	}
	bin, _ := binaries(t)
	exitFile := filepath.Join(home, fmt.Sprintf("exit-%d", tmuxSessions.Add(1)))
	p := &tmuxPane{t: t, socket: fmt.Sprintf("sesame-test-%d-%d-%s", os.Getpid(), tmuxSessions.Load(), strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())), exit: exitFile}
	vars := append([]string{"HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"PATH=" + os.Getenv("PATH"), "TERM=xterm-256color", "LANG=C.UTF-8"}, env...)
	cmd := "env -i " + strings.Join(quoteAll(vars), " ") + " " + shellQuote(bin)
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	cmd += "; echo EXIT=$? > " + shellQuote(p.exit) + "; sleep 3600"
	// The tmux server needs TERM even when the test has no terminal (CI);
	// -f /dev/null keeps the operator's own tmux.conf out of it.
	p.tmux("-f", "/dev/null", "new-session", "-d", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", p.socket, "kill-server").Run() })
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	c := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...)
	c.Env = append(os.Environ(), "TERM=xterm-256color")
	out, err := c.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys types into the pane: each argument is a tmux key (Enter, C-c) or,
// with literal, text.
func (p *tmuxPane) keys(keys ...string) { p.tmux(append([]string{"send-keys", "-t", "0"}, keys...)...) }

func (p *tmuxPane) typeText(s string) { p.tmux("send-keys", "-t", "0", "-l", s) }

// screen is the visible pane as text; colors true keeps the escape codes.
func (p *tmuxPane) screen(colors bool) string {
	if colors {
		return p.tmux("capture-pane", "-p", "-e", "-t", "0")
	}
	return p.tmux("capture-pane", "-p", "-t", "0")
}

// waitFor polls the screen until it shows every text, for at most limit,
// and returns it; the test fails with the last screen otherwise.
func (p *tmuxPane) waitFor(limit time.Duration, texts ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := p.screen(false)
		missing := ""
		for _, x := range texts {
			if !strings.Contains(s, x) {
				missing = x
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("after %s the screen does not show %q:\n%s", limit, missing, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exitCode waits (bounded) for sesame to end and returns its exit code.
func (p *tmuxPane) exitCode() int {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(p.exit)
		if s := strings.TrimSpace(string(b)); err == nil && strings.HasPrefix(s, "EXIT=") {
			code, err := strconv.Atoi(strings.TrimPrefix(s, "EXIT="))
			if err != nil {
				p.t.Fatalf("exit file holds %q", s)
			}
			return code
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("sesame did not exit; screen:\n%s", p.screen(false))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrollback is everything the pane printed, the scrollback included.
func (p *tmuxPane) scrollback() string {
	return p.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "0")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = shellQuote(s)
	}
	return out
}

// sgrColor matches an SGR escape that sets a foreground or background
// colour (30-37, 38;..., 39 excluded as a reset, 40-47, 48;..., 90-97,
// 100-107); bold, reverse and resets are allowed without colour.
var sgrColor = regexp.MustCompile(`\x1b\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]*)*m`)

// answerQuestions answers the wizard's questions for domain with the MAIL
// FROM label "mail" and a DMARC record, checking each question shows with
// the help line, and returns at the first plan.
func answerQuestions(p *tmuxPane, domain string, check func(stage, screen string)) {
	p.t.Helper()
	check("domain", p.waitFor(10*time.Second, "Which domain will send mail?", "enter submit"))
	p.typeText(domain)
	p.keys("Enter")
	check("region", p.waitFor(10*time.Second, "Which SES region?", "us-east-1", "enter choose"))
	p.keys("Enter")
	check("user", p.waitFor(10*time.Second, "IAM user for the SMTP credentials", "enter submit"))
	p.keys("Enter")
	check("mail-from", p.waitFor(10*time.Second, "Custom MAIL FROM subdomain", "enter submit"))
	p.typeText("mail")
	p.keys("Enter")
	check("dmarc", p.waitFor(10*time.Second, "Publish a DMARC record", "[y/N]", "y yes"))
	p.keys("y")
}

// approvePlans approves the smtp-user, identity and dns plans, checking
// each on screen, and returns once the dns plan is approved.
func approvePlans(p *tmuxPane, check func(stage, screen string)) {
	p.t.Helper()
	check("smtp-user plan", p.waitFor(10*time.Second, "iam-user", "Apply this plan? [Y/n]", "y/enter approve"))
	p.keys("y")
	check("identity plan", p.waitFor(10*time.Second, "ses-identity", "Apply this plan? [Y/n]"))
	p.keys("y")
	check("dns plan", p.waitFor(10*time.Second, "CNAME", "Apply this plan? [Y/n]"))
	p.keys("y")
}

func TestTUIDemoInTmux(t *testing.T) {
	t.Parallel()
	p := startTmux(t, 80, 24, nil, "--demo")
	var colored bool
	check := func(stage, s string) {
		t.Helper()
		if !strings.Contains(s, "sesame") || !strings.Contains(s, "DEMO") {
			t.Errorf("%s: the header lacks sesame DEMO:\n%s", stage, s)
		}
		colored = colored || sgrColor.MatchString(p.screen(true))
	}
	answerQuestions(p, "shop.example", check)
	approvePlans(p, func(stage, s string) {
		check(stage, s)
		if stage == "dns plan" {
			// The demo zone's SPF record at mail.shop.example gets
			// include:amazonses.com merged in; the apex MX is not in the plan.
			for _, want := range []string{"ACTION", "NAME, then its value", "TXT", "create", "merge", "include:amazonses.com"} {
				if !strings.Contains(s, want) {
					t.Errorf("dns plan lacks %q:\n%s", want, s)
				}
			}
		}
	})
	s := p.waitFor(15*time.Second, "SES: ", "q leaves; the demo account ends with this process.")
	for _, want := range []string{"elapsed", "next check in", "MX records of shop.example that stay:", "10 mx1.mail-provider.example.", "20 mx2.mail-provider.example.", "! SES's inbound MX"} {
		if !strings.Contains(s, want) {
			t.Errorf("waiting screen lacks %q:\n%s", want, s)
		}
	}
	s = p.waitFor(40*time.Second, "Request SES production access now? [y/N]")
	for _, want := range []string{"✓ verification", "Sandbox: SES delivers only to verified addresses", "sent per 24 h", "0/200", "max send rate"} {
		if !strings.Contains(s, want) {
			t.Errorf("sandbox screen lacks %q:\n%s", want, s)
		}
	}
	p.keys("n")
	// The test message has its own test (TestTUISandboxTestMail).
	p.waitFor(10*time.Second, "Send a test message once the relay works?")
	p.keys("Down", "Down", "Enter")
	s = p.waitFor(20*time.Second, "Finished", "q quit")
	for _, want := range []string{"✓✓✓✓⚠✓✓✓  finished", "SMTP username AKIA", "SMTP password ••••••••", "p show password", "These are demo files"} {
		if !strings.Contains(s, want) {
			t.Errorf("finished screen lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "sudo sh") {
		t.Errorf("the demo suggests installing its files into Postfix:\n%s", s)
	}
	if !colored {
		t.Error("no screen had colour codes; the NO_COLOR test below would prove nothing")
	}
	p.keys("q")
	if code := p.exitCode(); code != 0 {
		t.Fatalf("exit code %d after q at the end, want 0:\n%s", code, p.scrollback())
	}
	// The summary stays in the scrollback after the TUI is gone.
	back := p.scrollback()
	for _, want := range []string{"sesame: shop.example in us-east-1, account 123456789012 (demo)", "✓ verification", "Files written", "sasl_passwd", "sesame    # the wizard on your own AWS account"} {
		if !strings.Contains(back, want) {
			t.Errorf("scrollback after exit lacks %q:\n%s", want, back)
		}
	}
}

// TestTUINoColorAndInterrupt: with NO_COLOR no screen has a colour code,
// and Ctrl+C during the verification wait ends the run with exit 130 and
// says how to resume.
func TestTUINoColorAndInterrupt(t *testing.T) {
	t.Parallel()
	p := startTmux(t, 80, 24, []string{"NO_COLOR=1"}, "--demo")
	check := func(stage, _ string) {
		t.Helper()
		raw := p.screen(true)
		if sgrColor.MatchString(raw) {
			t.Errorf("%s: colour codes on screen with NO_COLOR=1: %q", stage, sgrColor.FindAllString(raw, 5))
		}
		if stage == "domain" && !strings.Contains(raw, "\x1b[7m") {
			// The text cursor is reverse video: without colour it must
			// still show where typing goes.
			t.Errorf("no visible cursor in the text field with NO_COLOR=1: %q", raw)
		}
	}
	answerQuestions(p, "shop.example", check)
	approvePlans(p, check)
	check("waiting", p.waitFor(15*time.Second, "q leaves"))
	p.keys("C-c")
	if code := p.exitCode(); code != 130 {
		t.Fatalf("exit code %d after Ctrl+C while waiting, want 130:\n%s", code, p.scrollback())
	}
	// The demo's account lived in the process: nothing says it resumes.
	back := p.scrollback()
	if !strings.Contains(back, "Interrupted: the demo account ended with it; sesame --demo starts a new one.") {
		t.Errorf("no note on what an interrupted demo leaves:\n%s", back)
	}
	if strings.Contains(back, "resume") {
		t.Errorf("an interrupted demo claims it can be resumed:\n%s", back)
	}
}

// TestTUISmallTerminal: at 60x20 every screen keeps its question and the
// help line, the plan shows all its rows whole, and the waiting screen
// the MX records that stay.
func TestTUISmallTerminal(t *testing.T) {
	t.Parallel()
	p := startTmux(t, 60, 20, nil, "--demo")
	check := func(stage, s string) {
		t.Helper()
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		if last := lines[len(lines)-1]; !strings.Contains(last, "quit") {
			t.Errorf("%s: the last line is not the help line: %q\n%s", stage, last, s)
		}
		if stage == "dns plan" {
			// The plan does not fit 60x20: ↓ scrolls it, and every change
			// shows, its action and type first, with the question and
			// the keys in view all along.
			rows, screens := 0, s
			for i := 0; i < 20 && strings.Contains(s, "more lines below"); i++ {
				p.keys("j")
				time.Sleep(150 * time.Millisecond)
				s = p.screen(false)
				screens += s
				if !strings.Contains(s, "Apply this plan? [Y/n]") {
					t.Errorf("scrolling hid the question:\n%s", s)
				}
			}
			seen := map[string]bool{}
			all := strings.Split(screens, "\n")
			for i, l := range all[:len(all)-1] {
				// A change is its action and type, and the name below.
				key := l + "\n" + all[i+1]
				if f := strings.Fields(l); len(f) >= 2 && (f[0] == "create" || f[0] == "merge" || f[0] == "update" || f[0] == "unchanged") &&
					(f[1] == "CNAME" || f[1] == "MX" || f[1] == "TXT" || f[1] == "ses-identity") &&
					strings.HasPrefix(all[i+1], "  ") && !strings.Contains(all[i+1], "more lines") && !seen[key] {
					seen[key] = true
					rows++
				}
			}
			if rows != 7 {
				t.Errorf("dns plan shows %d changes, want the 3 DKIM CNAMEs, the MAIL FROM MX and TXT, the DMARC TXT and the identity's MAIL FROM:\n%s", rows, screens)
			}
		}
		// A warning shortened to fit says what it means: SES's inbound
		// MX is not published on purpose, never an instruction to add it.
		if flat := strings.Join(strings.Fields(s), " "); strings.Contains(flat, "SES's inbound MX") && !strings.Contains(flat, "is not published on purpose") {
			t.Errorf("%s: the inbound-MX warning lost its meaning:\n%s", stage, s)
		}
	}
	answerQuestions(p, "shop.example", check)
	approvePlans(p, check)
	s := p.waitFor(15*time.Second, "q leaves")
	check("waiting", s)
	for _, want := range []string{"MX records of shop.example that stay:", "10 mx1.mail-provider.example.", "20 mx2.mail-provider.example."} {
		if !strings.Contains(s, want) {
			t.Errorf("waiting screen at 60x20 lacks %q:\n%s", want, s)
		}
	}
	p.keys("q")
	if code := p.exitCode(); code != 130 {
		t.Fatalf("exit code %d after q while waiting, want 130", code)
	}
}
