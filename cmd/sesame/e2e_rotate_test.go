package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/smtpcheck"
)

const rotateUser = "ses-smtp-example-com"

// rotateArgs are the flags of an unattended rotation of the onboarded setup.
func rotateArgs(extra ...string) []string {
	return append([]string{"rotate", "--no-input", "--yes", "--json", "--domain", "example.com", "--region", "us-east-1"}, extra...)
}

// keyStatuses returns the user's keys and their status (Active/Inactive).
func (p *simProc) keyStatuses(t *testing.T, user string) map[string]string {
	t.Helper()
	out, err := iam.NewFromConfig(p.awsConfig("us-east-1")).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("iam ListAccessKeys %s: %v", user, err)
	}
	m := map[string]string{}
	for _, k := range out.AccessKeyMetadata {
		m[aws.ToString(k.AccessKeyId)] = string(k.Status)
	}
	return m
}

// onboard runs the wizard to the end and returns the relay directory and
// the key whose password it wrote.
func onboard(t *testing.T, sim *simProc, home string) (string, string) {
	t.Helper()
	out := filepath.Join(home, "relay")
	r := sim.sesame(t, home, onboardArgs(out)...)
	assertComplete(t, r)
	return out, diskKey(t, out)
}

// diskKey is the access key id of sesame's entry in dir/sasl_passwd.
func diskKey(t *testing.T, dir string) string {
	t.Helper()
	e, err := postfix.ReadSASLPasswdFor(dir, "email-smtp.us-east-1.amazonaws.com", 587)
	if err != nil {
		t.Fatalf("read sasl_passwd: %v", err)
	}
	return e.Username
}

// assertConverged checks the rule a rotation ends with, whatever
// happened to it: the user has exactly one key, active, and the password
// on disk is that key's (the simulator's SMTP endpoint accepts it).
func assertConverged(t *testing.T, sim *simProc, out, old string) {
	t.Helper()
	keys := sim.keyStatuses(t, rotateUser)
	e, err := postfix.ReadSASLPasswdFor(out, "email-smtp.us-east-1.amazonaws.com", 587)
	if err != nil {
		t.Fatalf("read sasl_passwd: %v", err)
	}
	if len(keys) != 1 || keys[e.Username] != "Active" {
		t.Fatalf("the user's keys are %v, want exactly one, active, the one in sasl_passwd (%s)", keys, e.Username)
	}
	if e.Username == old {
		t.Fatalf("sasl_passwd still holds the old key %s", old)
	}
	roots, err := smtpcheck.Roots(sim.cert)
	if err != nil {
		t.Fatal(err)
	}
	login := smtpcheck.Login{Endpoint: sim.smtp, Roots: roots, Username: e.Username, Password: e.Password, Region: "us-east-1"}
	if err := login.Test(context.Background()); err != nil {
		t.Fatalf("the password on disk does not log in as %s: %v", e.Username, err)
	}
}

// After onboarding, sesame rotate replaces the key: a dry run changes
// nothing; the rotation leaves one active key, new, whose password is in
// sasl_passwd and logs in, with the previous file kept as a backup; the
// old key was deactivated before it was deleted; a second rotation works
// the same.
func TestRotateAfterOnboarding(t *testing.T) {
	t.Parallel()
	sim := startSim(t)
	home := t.TempDir()
	out, old := onboard(t, sim, home)

	before := len(sim.mutating())
	dry := sim.sesame(t, home, rotateArgs("--dry-run")...)
	if dry.code != 0 || len(sim.mutating()) != before || diskKey(t, out) != old {
		t.Fatalf("dry run: exit %d, writes %v, key on disk %s (want %s)\n%s", dry.code, sim.mutating()[before:], diskKey(t, out), old, dry.stderr)
	}
	if !strings.Contains(dry.stderr, "delete access-key") && !strings.Contains(dry.stderr, old) {
		t.Errorf("the dry run does not show the plan:\n%s", dry.stderr)
	}

	r := sim.sesame(t, home, rotateArgs()...)
	t.Logf("rotate:\n%s", r.stderr)
	if r.code != 0 {
		t.Fatalf("rotate: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	assertConverged(t, sim, out, old)
	// The new password is in sasl_passwd only: not on screen, not in the
	// state file, not in the backup.
	newEntry, err := postfix.ReadSASLPasswdFor(out, "email-smtp.us-east-1.amazonaws.com", 587)
	if err != nil {
		t.Fatal(err)
	}
	assertNowhere(t, newEntry.Password.Reveal(), home, r.stdout+r.stderr+dry.stdout+dry.stderr, filepath.Join(out, "sasl_passwd"))
	rep := parseReport(t, r)
	if rep.SMTP == nil || rep.SMTP.Username != diskKey(t, out) {
		t.Errorf("the report's SMTP username is %+v, want the new key %s", rep.SMTP, diskKey(t, out))
	}
	backups, _ := filepath.Glob(filepath.Join(out, "sasl_passwd.sesame-*"))
	if len(backups) != 1 || !strings.Contains(readFile(t, backups[0]), old) {
		t.Errorf("backups %v: want one, holding the old key %s", backups, old)
	} else {
		assertMode(t, backups[0], 0o600)
	}
	// The old key was made inactive before it was deleted, and both
	// after the new key was created.
	var order []string
	for _, l := range sim.mutating() {
		if f := strings.Fields(l); f[0] == "iam" && (f[1] == "CreateAccessKey" || f[1] == "UpdateAccessKey" || f[1] == "DeleteAccessKey") {
			order = append(order, f[1])
		}
	}
	if want := []string{"CreateAccessKey", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"}; !slices.Equal(order, want) {
		t.Errorf("key writes over onboarding and rotation %v, want %v", order, want)
	}

	second := diskKey(t, out)
	if r := sim.sesame(t, home, rotateArgs()...); r.code != 0 {
		t.Fatalf("second rotate: exit %d\n%s", r.code, r.stderr)
	}
	assertConverged(t, sim, out, second)
	if s := sim.sesame(t, home, "status", "--domain", "example.com", "--region", "us-east-1"); s.code != 0 || !strings.Contains(s.stdout, diskKey(t, out)) {
		t.Errorf("status after rotations: exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
}

// sesame rotate is SIGKILLed right after AWS applied each of its
// mutations and before sesame heard back (sesame-sim --hang-after); the
// rerun converges: exactly one active key, the password on disk matching
// it, the old key gone. CreateAccessKey is the case sesame cannot prove:
// the key that appeared may be someone else's, so the rerun stops with
// exit 2 naming it and --replace-key, and the operator's rerun with it
// converges.
func TestRotateKilledAfterEachMutation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op string
		// named: the first rerun stops with exit 2 and names the key
		// that appeared; the next, with --replace-key, converges.
		named bool
	}{
		{"CreateAccessKey#2", true},
		{"UpdateAccessKey", false},
		{"DeleteAccessKey", false},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, "--hang-after", tt.op)
			home := t.TempDir()
			out, old := onboard(t, sim, home)

			op, _, _ := strings.Cut(tt.op, "#")
			first := sim.start(t, home, rotateArgs()...)
			sim.waitLog(t, 0, "iam "+op+" -")
			if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if r := first.wait(t); r.code != 128+int(syscall.SIGKILL) {
				t.Fatalf("rotate ended with %d before the kill\n%s", r.code, r.stderr)
			}

			creates := sim.count("iam", "CreateAccessKey")
			r := sim.sesame(t, home, rotateArgs()...)
			t.Logf("rerun (exit %d):\n%s", r.code, r.stderr)
			if tt.named {
				if r.code != 2 || !strings.Contains(r.stderr, "--replace-key") {
					t.Fatalf("rerun after a lost CreateAccessKey: exit %d, want 2 naming --replace-key\n%s", r.code, r.stderr)
				}
				if n := sim.count("iam", "CreateAccessKey"); n != creates {
					t.Fatalf("the stopped rerun asked IAM for another key (%d CreateAccessKey calls, want none)", n-creates)
				}
				var appeared string
				for id := range sim.keyStatuses(t, rotateUser) {
					if id != old {
						appeared = id
					}
				}
				// The message says what happened (the unanswered call, the
				// key's creation time against the recorded intent) and
				// gives the one command that continues.
				cont := "sesame rotate --domain example.com --region us-east-1 --replace-key " + appeared
				for _, want := range []string{appeared, cont, "CreateAccessKey", "recorded the intent at", "created 20"} {
					if appeared == "" || !strings.Contains(r.stderr, want) {
						t.Fatalf("the rerun's message lacks %q (key that appeared: %q):\n%s", want, appeared, r.stderr)
					}
				}
				if diskKey(t, out) != old {
					t.Fatalf("the stopped rerun changed sasl_passwd")
				}
				r = sim.sesame(t, home, rotateArgs("--replace-key", appeared)...)
			}
			if r.code != 0 {
				t.Fatalf("rerun: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			assertConverged(t, sim, out, old)
			if n := sim.countApplied("CreateAccessKey"); n != map[bool]int{true: 3, false: 2}[tt.named] {
				t.Errorf("CreateAccessKey took effect %d times over onboarding and the rotation: %v", n, sim.mutating())
			}
			// The state file holds no rotation in progress any more.
			matches, _ := filepath.Glob(filepath.Join(home, ".local", "state", "sesame", "*.json"))
			for _, m := range matches {
				data, _ := os.ReadFile(m)
				if strings.Contains(string(data), `"rotation"`) {
					t.Errorf("%s still holds a rotation:\n%s", m, data)
				}
			}
		})
	}
}

// A new key whose SMTP login keeps failing (here the endpoint serves
// another region, so no us-east-1 password logs in) rolls the rotation
// back: exit 1 saying why, the old key the only one and active, and the
// old password in sasl_passwd.
func TestRotateFailedLoginRollsBack(t *testing.T) {
	t.Parallel()
	sim := startSim(t, "--smtp-region", "eu-west-1")
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	assertComplete(t, sim.sesame(t, home, onboardArgs(out, "--no-smtp-test")...))
	old := diskKey(t, out)
	before, err := os.ReadFile(filepath.Join(out, "sasl_passwd"))
	if err != nil {
		t.Fatal(err)
	}

	r := sim.sesame(t, home, rotateArgs()...)
	if r.code != 1 || !strings.Contains(r.stderr, "login test failed") || !strings.Contains(r.stderr, "rolled back to key "+old) {
		t.Fatalf("rotate with a failing login: exit %d, want 1 saying why and that it rolled back\n%s", r.code, r.stderr)
	}
	if keys := sim.keyStatuses(t, rotateUser); len(keys) != 1 || keys[old] != "Active" {
		t.Errorf("keys after the rollback %v, want only %s, active", keys, old)
	}
	if now := readFile(t, filepath.Join(out, "sasl_passwd")); now != string(before) {
		t.Errorf("sasl_passwd after the rollback differs from before:\n%s\nwant:\n%s", now, before)
	}
	if n := sim.countApplied("UpdateAccessKey"); n != 0 {
		t.Errorf("the old key was deactivated %d times although the new one never logged in", n)
	}
}

// A setup whose key is 200 days old: status says its age and that it is
// past 90 days, naming sesame rotate; after the rotation it no longer does.
func TestRotateKeyPast90DaysStatusWarns(t *testing.T) {
	t.Parallel()
	const id, secret = "AKIAOLDKEY0000000001", "abcdefghijABCDEFGHIJabcdefghijABCDEFGHIJ"
	created := time.Now().Add(-200 * 24 * time.Hour).UTC().Format(time.RFC3339)
	seed := filepath.Join(t.TempDir(), "seed.json")
	writeFile(t, seed, `{"zones":[{"name":"example.com","records":[
	  {"name":"example.com","type":"MX","ttl":300,"values":["10 mx1.mail-provider.example."]}]}],
	 "users":[{"name":"`+rotateUser+`","tags":{"managed-by":"sesame","sesame:domain":"example.com"},
	   "keys":[{"id":"`+id+`","secret":"`+secret+`","created":"`+created+`"}]}]}`)
	sim := startSim(t, "--seed-file", seed)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	if _, err := postfix.WriteSASLPasswd(out, mta.Credentials{Host: "email-smtp.us-east-1.amazonaws.com", Port: 587, Username: id,
		Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1"))}); err != nil {
		t.Fatal(err)
	}
	assertComplete(t, sim.sesame(t, home, onboardArgs(out)...))
	status := func() string {
		s := sim.sesame(t, home, "status", "--domain", "example.com", "--region", "us-east-1")
		if s.code != 0 {
			t.Fatalf("status: exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
		}
		return s.stdout
	}
	if s := status(); !strings.Contains(s, "(200 days ago)") || !strings.Contains(s, "past 90 days, run `sesame rotate`") {
		t.Fatalf("status does not warn about the 200-day-old key:\n%s", s)
	}
	if r := sim.sesame(t, home, rotateArgs()...); r.code != 0 {
		t.Fatalf("rotate: exit %d\n%s", r.code, r.stderr)
	}
	assertConverged(t, sim, out, id)
	if s := status(); strings.Contains(s, "past 90 days") || !strings.Contains(s, diskKey(t, out)) {
		t.Errorf("status after the rotation:\n%s", s)
	}
}
