package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// The input cases of TestNeverDamage: every input is checked before the first AWS request,
// and saved answers are reused only when they held, in the same account.

// refusedBeforeAWS runs sesame with args (and extra variables) and fails
// unless it exits 2 with every text of want on stderr and no AWS request.
func refusedBeforeAWS(t *testing.T, sim *simProc, home string, env []string, args []string, want ...string) result {
	t.Helper()
	before := sim.calls()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := sim.command(ctx, t, home, args...)
	cmd.Env = append(cmd.Env, env...) // the last value of a variable wins
	r := runProcess(t, cmd)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("the error does not say %q:\n%s", w, r.stderr)
		}
	}
	for _, jargon := range []string{"strconv.", "invalid syntax", "time: invalid duration", "invalid argument"} {
		if strings.Contains(r.stderr, jargon) {
			t.Errorf("the error speaks Go (%q), not the operator's words:\n%s", jargon, r.stderr)
		}
	}
	if after := sim.calls(); after != before {
		t.Errorf("%d AWS requests before the input was refused", after-before)
	}
	return r
}

func safetyInputBadPunycode(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	for _, d := range []string{"xn--zz.com", "xn--a.com", "foo.xn--zz", "xn--ls8h.la", "XN--ZZ.com"} {
		t.Run(d, func(t *testing.T) {
			refusedBeforeAWS(t, sim, home, nil,
				[]string{"--no-input", "--yes", "--domain", d, "--region", "us-east-1", "--out", filepath.Join(home, "relay")},
				"--domain", "xn--")
		})
	}
}

func safetyInputLookalikeNeedsConfirming(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	run := func(args ...string) []string {
		return append([]string{"--no-input", "--dry-run", "--json", "--region", "us-east-1", "--out", filepath.Join(home, "relay")}, args...)
	}
	// Refused unconfirmed, showing both forms and the flag that confirms.
	for _, tt := range []struct{ domain, puny string }{
		{"exаmple.com", "xn--exmple-4nf.com"}, // Cyrillic а
		{"раypal.com", "xn--ypal-43d9g.com"},  // Cyrillic р and а
		{"аррӏе.com", "xn--80ak6aa92e.com"},   // all Cyrillic, as Latin "apple"
		{"xn--exmple-4nf.com", "xn--exmple-4nf.com"},
	} {
		t.Run(tt.puny, func(t *testing.T) {
			refusedBeforeAWS(t, sim, home, nil, run("--domain", tt.domain), "--confirm-domain "+tt.puny, tt.puny, "Cyrillic")
		})
	}
	// A confirmation of another domain confirms nothing.
	refusedBeforeAWS(t, sim, home, nil, run("--domain", "exаmple.com", "--confirm-domain", "xn--ypal-43d9g.com"), "--confirm-domain", "xn--exmple-4nf.com")
	// Confirmed (flag or variable): the run goes on.
	for _, how := range [][]string{{"--confirm-domain", "xn--exmple-4nf.com"}, {"--confirm-domain", "exаmple.com"}} {
		r := sim.sesame(t, home, run(append([]string{"--domain", "exаmple.com"}, how...)...)...)
		if r.code != 0 || parseReport(t, r).Domain != "xn--exmple-4nf.com" {
			t.Fatalf("confirmed with %v: exit %d, want 0 for xn--exmple-4nf.com\n%s\n%s", how, r.code, r.stdout, r.stderr)
		}
	}
	// A domain in one script that looks like nothing else needs no confirmation.
	if r := sim.sesame(t, home, run("--domain", "bücher.de")...); r.code != 0 {
		t.Fatalf("bücher.de: exit %d, want 0\n%s", r.code, r.stderr)
	}
}

// safetyInputLookalikeAsked: the question shows the Unicode and punycode
// forms; Enter (the default, no) refuses the domain, y goes on.
func safetyInputLookalikeAsked(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer string
		next   string // what the screen shows after the answer
		code   int    // the exit code once the wizard is left; -1: not waited for
	}{
		{"n", "", "was not confirmed", 2}, // Enter takes the default: no
		{"y", "y", "IAM user for the SMTP credentials", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startTmux(t, 200, 50, []string{"ACCESSIBLE=1"}, "--demo", "--domain", "exаmple.com", "--region", "us-east-1")
			p.waitFor(30*time.Second, "exаmple.com (punycode xn--exmple-4nf.com)", "Cyrillic and Latin", "[y/N]")
			if tt.answer != "" {
				p.typeText(tt.answer)
			}
			p.keys("Enter")
			p.waitFor(30*time.Second, tt.next)
			if tt.code >= 0 {
				if code := p.exitCode(); code != tt.code {
					t.Fatalf("exit %d, want %d\n%s", code, tt.code, p.screen(false))
				}
			}
		})
	}
}

func safetyInputBadFlags(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	noPEM := filepath.Join(home, "not-a-ca.pem")
	writeFile(t, noPEM, "this is not a certificate\n")
	garbledPEM := filepath.Join(home, "garbled.pem")
	writeFile(t, garbledPEM, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
	base := []string{"--no-input", "--yes", "--domain", "example.com", "--region", "us-east-1", "--out", filepath.Join(home, "relay")}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"--mail-from with bad punycode", []string{"--mail-from", "xn--zz"}, []string{"--mail-from", "punycode"}},
		{"--mail-from with an emoji label", []string{"--mail-from", "xn--ls8h"}, []string{"--mail-from", "IDNA 2008"}},
		{"--timeout negative", []string{"--timeout", "-5s"}, []string{"--timeout", "negative"}},
		{"--timeout not a duration", []string{"--timeout", "soon"}, []string{"--timeout", "90s"}},
		{"--resolver without a port", []string{"--resolver", "garbage"}, []string{"--resolver", "host:port"}},
		{"--resolver with a bad port", []string{"--resolver", "127.0.0.1:99999"}, []string{"--resolver", "65535"}},
		{"--resolver with a bad host", []string{"--resolver", "bad_host!:53"}, []string{"--resolver", "host"}},
		{"--smtp-endpoint garbage", []string{"--smtp-endpoint", "garbage"}, []string{"--smtp-endpoint", "host:port"}},
		{"--smtp-endpoint with a word for a port", []string{"--smtp-endpoint", "email-smtp.us-east-1.amazonaws.com:smtp"}, []string{"--smtp-endpoint", "port"}},
		{"--smtp-endpoint with port 0", []string{"--smtp-endpoint", "127.0.0.1:0"}, []string{"--smtp-endpoint", "port"}},
		{"--replace-key not a key id", []string{"--replace-key", "oops"}, []string{"--replace-key", "access key id"}},
		{"--replace-key a secret-looking value", []string{"--replace-key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, []string{"--replace-key", "access key id"}},
		{"--smtp-ca missing", []string{"--smtp-ca", filepath.Join(home, "nope.pem")}, []string{"--smtp-ca", "does not exist"}},
		{"--smtp-ca without a certificate", []string{"--smtp-ca", noPEM}, []string{"--smtp-ca", "no PEM certificate"}},
		{"--smtp-ca with a garbled certificate", []string{"--smtp-ca", garbledPEM}, []string{"--smtp-ca", "does not parse"}},
		{"--smtp-ca a directory", []string{"--smtp-ca", home}, []string{"--smtp-ca", "not a regular file"}},
		{"--confirm-domain not a domain", []string{"--confirm-domain", "xn--zz.com"}, []string{"--confirm-domain"}},
		{"--dmarc=maybe", []string{"--dmarc=maybe"}, []string{"--dmarc", "true or false"}},
		{"--smtp-port x", []string{"--smtp-port", "x"}, []string{"--smtp-port", "whole number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refusedBeforeAWS(t, sim, home, nil, append(append([]string{}, base...), tt.args...), tt.want...)
		})
	}
}

// badEnv is a bad value for each SESAME_* variable, by flag name. Every
// flag of the wizard must be here or in envFreeForm, so a new flag gets a
// case.
var badEnv = map[string]string{
	"domain": "xn--zz.com", "region": "mars-1", "profile": "no-such-profile", "smtp-user": "ses smtp",
	"mail-from": "xn--zz", "dmarc": "maybe", "zone-id": "", "out": "", "state-dir": "",
	"yes": "sure", "dry-run": "perhaps", "no-input": "never", "wait": "a while", "no-wait": "nope",
	"timeout": "soon", "resolver": "garbage", "smtp-endpoint": "garbage:port", "smtp-ca": "/nonexistent/ca.pem",
	"no-smtp-test": "y3s", "smtp-port": "x", "test-to": "a@b@c.com", "apply-postfix": "maybe",
	"rewrite-local-senders": "root at example.com",
	"postfix-dir":           "", "replace-key": "oops", "recreate-identity": "maybe", "request-production": "maybe",
	"mail-type": "BULK", "website-url": "ftp://example.com", "use-case": "", "contact-language": "FR",
	"contact-email": "not-an-address", "verify-recipient": "ops@", "json": "maybe", "demo": "maybe",
	"no-color": "maybe", "debug": "maybe", "confirm-domain": "xn--zz.com",
}

// envFreeForm are the variables whose values are checked elsewhere or
// take any text.
var envFreeForm = map[string]string{
	"zone-id":     "checked against Route 53 (the dns preflight): a safety case of its own",
	"out":         "a path: checked by the output-directory safety cases",
	"state-dir":   "a path: checked by the state-file safety cases",
	"postfix-dir": "a path: checked by the generated-script safety cases",
	"use-case":    "free text for the production-access request",
}

func safetyInputBadEnv(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	root, _ := newRootCmd(&ioStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, InFd: -1}, func(string) string { return "" })
	var names []string
	root.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == "version" {
			return
		}
		names = append(names, f.Name)
	})
	sort.Strings(names)
	// No flags: each variable is the only source of its value (a flag
	// would win over it), and without a terminal nothing is asked.
	var args []string
	for _, name := range names {
		v, ok := badEnv[name]
		if !ok {
			t.Errorf("SESAME_%s has no bad-value case: add one to badEnv (or envFreeForm, saying why)", strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
			continue
		}
		if _, free := envFreeForm[name]; free {
			continue
		}
		env := "SESAME_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		t.Run(env, func(t *testing.T) {
			vars := []string{env + "=" + v, "SESAME_DOMAIN=example.com", "SESAME_REGION=us-east-1"}
			if name == "domain" || name == "region" {
				vars = []string{"SESAME_DOMAIN=example.com", "SESAME_REGION=us-east-1", env + "=" + v}
			}
			if name == "mail-type" || name == "website-url" || name == "contact-language" || name == "contact-email" {
				vars = append(vars, "SESAME_REQUEST_PRODUCTION=1", "SESAME_USE_CASE=receipts")
				if name != "mail-type" {
					vars = append(vars, "SESAME_MAIL_TYPE=TRANSACTIONAL")
				}
				if name != "website-url" {
					vars = append(vars, "SESAME_WEBSITE_URL=https://www.example.com")
				}
			}
			want := env
			if name == "profile" {
				want = "--profile" // the AWS configuration names the profile
			}
			refusedBeforeAWS(t, sim, home, vars, args, want)
		})
	}
}

func safetyInputDryRunAnswersNotSaved(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	dryOut := filepath.Join(home, "dry-out")
	r := sim.sesame(t, home, "--no-input", "--dry-run", "--domain", "example.com", "--region", "us-east-1", "--out", dryOut, "--smtp-user", "dry-run-user", "--mail-from", "dry")
	if r.code != 0 {
		t.Fatalf("dry run exit %d\n%s", r.code, r.stderr)
	}
	r = sim.sesame(t, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1")
	assertComplete(t, r)
	def := filepath.Join(home, ".local", "share", "sesame", "example.com-us-east-1")
	if _, err := os.Stat(filepath.Join(def, "sasl_passwd")); err != nil {
		t.Errorf("the real run did not write to the default --out %s: %v", def, err)
	}
	if _, err := os.Stat(filepath.Join(dryOut, "sasl_passwd")); err == nil {
		t.Errorf("the real run wrote into %s, the --out given only to the dry run", dryOut)
	}
	for _, l := range sim.mutating() {
		if strings.Contains(l, "dry-run-user") {
			t.Errorf("the dry run's --smtp-user was used: %s", l)
		}
	}
	sv := savedSetup(t, home, "123456789012")
	if sv.Answers.SMTPUser == "dry-run-user" || sv.Answers.MailFrom == "dry" || sv.Answers.OutDir == dryOut {
		t.Errorf("saved answers hold the dry run's: %+v", sv.Answers)
	}
}

// savedState is what the tests read of a state file.
type savedState struct {
	Account string `json:"account"`
	Answers struct {
		SMTPUser string `json:"smtp_user"`
		MailFrom string `json:"mail_from"`
		ZoneID   string `json:"zone_id"`
		OutDir   string `json:"out_dir"`
	} `json:"answers"`
}

func statePath(home, account string) string {
	return filepath.Join(home, ".local", "state", "sesame", account+"_us-east-1_example.com.json")
}

func savedSetup(t *testing.T, home, account string) savedState {
	t.Helper()
	var sv savedState
	if err := json.Unmarshal([]byte(readFile(t, statePath(home, account))), &sv); err != nil {
		t.Fatal(err)
	}
	return sv
}

func safetyInputFailedZoneIDNotSaved(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	args := func(extra ...string) []string {
		return append([]string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1", "--out", out}, extra...)
	}
	r := sim.sesame(t, home, args("--zone-id", "Z0000000NOSUCHZONE")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--zone-id") {
		t.Fatalf("a zone id that does not exist: exit %d, want 2 naming --zone-id\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(statePath(home, "123456789012")); err == nil {
		if sv := savedSetup(t, home, "123456789012"); sv.Answers.ZoneID != "" {
			t.Fatalf("the refused zone id was saved: %+v", sv.Answers)
		}
	}
	// The next run, without --zone-id, finds the zone by name, as the
	// message advised.
	assertComplete(t, sim.sesame(t, home, args()...))

	// A zone id saved by an earlier sesame that no longer exists:
	// --zone-id "" clears it.
	path := statePath(home, "123456789012")
	var raw map[string]any
	if err := json.Unmarshal([]byte(readFile(t, path)), &raw); err != nil {
		t.Fatal(err)
	}
	raw["answers"].(map[string]any)["zone_id"] = "Z0000000NOSUCHZONE"
	b, _ := json.Marshal(raw)
	writeFile(t, path, string(b))
	if r := sim.sesame(t, home, args()...); r.code != 2 || !strings.Contains(r.stderr, "--zone-id") {
		t.Fatalf("with the stale saved zone id: exit %d, want 2 naming --zone-id\n%s", r.code, r.stderr)
	}
	assertComplete(t, sim.sesame(t, home, args("--zone-id", "")...))
	if sv := savedSetup(t, home, "123456789012"); sv.Answers.ZoneID != "" {
		t.Fatalf("--zone-id \"\" left the saved zone id: %+v", sv.Answers)
	}
	assertComplete(t, sim.sesame(t, home, args()...))
}

func safetyInputAnswersStayInAccount(t *testing.T) {
	staging := startSim(t)
	production := startSim(t, "--account-id", "210987654321")
	home := t.TempDir()
	stagingOut := filepath.Join(home, "staging-relay")
	assertComplete(t, staging.sesame(t, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1", "--out", stagingOut, "--smtp-user", "staging-smtp"))
	stagingPasswd := readFile(t, filepath.Join(stagingOut, "sasl_passwd"))

	r := production.sesame(t, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1")
	assertComplete(t, r)
	if got := readFile(t, filepath.Join(stagingOut, "sasl_passwd")); got != stagingPasswd {
		t.Fatalf("production's run replaced staging's sasl_passwd in %s", stagingOut)
	}
	for _, f := range parseReport(t, r).Files {
		if strings.HasPrefix(f, stagingOut) {
			t.Errorf("production's run wrote %s, in staging's --out", f)
		}
	}
	for _, l := range production.mutating() {
		if strings.Contains(l, "staging-smtp") {
			t.Errorf("production's run used staging's --smtp-user: %s", l)
		}
	}
	if sv := savedSetup(t, home, "210987654321"); sv.Answers.OutDir == stagingOut || sv.Answers.SMTPUser == "staging-smtp" {
		t.Errorf("production's saved answers are staging's: %+v", sv.Answers)
	}
	if sv := savedSetup(t, home, "123456789012"); sv.Answers.OutDir != stagingOut || sv.Answers.SMTPUser != "staging-smtp" {
		t.Errorf("staging's saved answers changed: %+v", sv.Answers)
	}
	// Staging's next run still resumes its own answers.
	r = staging.sesame(t, home, "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1")
	assertComplete(t, r)
	if got := readFile(t, filepath.Join(stagingOut, "sasl_passwd")); got != stagingPasswd {
		t.Errorf("staging's rerun did not keep its own sasl_passwd")
	}
}

func safetyInputDefaultOutPerAccount(t *testing.T) {
	staging := startSim(t)
	production := startSim(t, "--account-id", "210987654321")
	home := t.TempDir()
	args := []string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1"}
	assertComplete(t, staging.sesame(t, home, args...))
	def := filepath.Join(home, ".local", "share", "sesame", "example.com-us-east-1")
	stagingPasswd := readFile(t, filepath.Join(def, "sasl_passwd"))
	assertComplete(t, production.sesame(t, home, args...))
	if got := readFile(t, filepath.Join(def, "sasl_passwd")); got != stagingPasswd {
		t.Fatalf("production's run overwrote staging's relay files in the default --out %s", def)
	}
	if sv := savedSetup(t, home, "210987654321"); sv.Answers.OutDir == def || sv.Answers.OutDir == "" {
		t.Errorf("production's --out = %q, want its own directory", sv.Answers.OutDir)
	}
}
