package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/internal/smtptest"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// relayFixture is a relay step run against the in-test SMTP server.
type relayFixture struct {
	srv    *smtptest.Server
	out    string
	env    *Env
	events []Event
}

func newRelayFixture(t *testing.T, opts Options) *relayFixture {
	t.Helper()
	f := &relayFixture{srv: smtptest.New(t, false), out: filepath.Join(t.TempDir(), "out")}
	f.srv.AddUser(testKeyID, ses.SMTPPassword(testSecret, "us-east-1"))
	f.srv.Verify("sesame-test@example.com")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, f.srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if opts.SMTPEndpoint == "" {
		opts.SMTPEndpoint = f.srv.Addr
	}
	opts.SMTPCA = ca
	f.env = NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: f.out}, opts)
	f.env.Clock = fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	f.env.Emit = func(e Event) { f.events = append(f.events, e) }
	return f
}

// credentials writes the sasl_passwd the smtp-user step would write.
func (f *relayFixture) credentials(t *testing.T, region string, port int) {
	t.Helper()
	if _, err := postfix.WriteSASLPasswd(f.out, mta.Credentials{Host: ses.SMTPHost(region), Port: port, Username: testKeyID,
		Password: mta.Secret(ses.SMTPPassword(testSecret, region))}); err != nil {
		t.Fatal(err)
	}
}

func (f *relayFixture) run(step *Relay) (*Report, error) {
	return (&Runner{Steps: []Step{step}}).Run(context.Background(), f.env)
}

func (f *relayFixture) relayReports() []*RelayReport {
	var reps []*RelayReport
	for _, e := range f.events {
		if r, ok := e.Data.(*RelayReport); ok {
			reps = append(reps, r)
		}
	}
	return reps
}

// noSecrets fails if a password or the secret key shows in any event.
func (f *relayFixture) noSecrets(t *testing.T) {
	t.Helper()
	for _, e := range f.events {
		s := fmt.Sprintf("%+v %v %+v", e, e.Err, e.Data)
		for _, region := range []string{"us-east-1", "us-west-2"} {
			if strings.Contains(s, ses.SMTPPassword(testSecret, region)) || strings.Contains(s, testSecret) {
				t.Fatalf("an event reveals a secret: %s", s)
			}
		}
	}
}

func TestRelayStep(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		credRegion string // "" writes no sasl_passwd
		credPort   int
		wantErr    string
		wantLogin  string // the published RelayReport.LoginTest
		wantAuths  int    // the login test, plus the test message's own login
		wantFiles  bool
		wantDetail string
	}{
		{name: "writes the files and tests the login", credRegion: "us-east-1", credPort: 587,
			wantLogin: "ok", wantAuths: 1, wantFiles: true, wantDetail: "SMTP login as " + testKeyID},
		{name: "port 465 rewrites the sasl_passwd key", opts: Options{SMTPPort: 465}, credRegion: "us-east-1", credPort: 587,
			wantLogin: "ok", wantAuths: 1, wantFiles: true},
		{name: "no smtp test", opts: Options{NoSMTPTest: true}, credRegion: "us-east-1", credPort: 587,
			wantLogin: "skipped", wantAuths: 0, wantFiles: true, wantDetail: "SMTP login test skipped (--no-smtp-test)"},
		{name: "no credentials on disk", credRegion: "",
			wantErr: "no SMTP credentials on disk: the smtp-user step makes them; run sesame again"},
		{name: "credentials of another region", credRegion: "us-west-2", credPort: 587,
			wantErr: "holds an SMTP password for us-west-2, but the region is us-east-1"},
		{name: "test message to the simulator", opts: Options{TestTo: ses.MailboxSimulatorSuccess}, credRegion: "us-east-1", credPort: 587,
			wantLogin: "ok", wantAuths: 2, wantFiles: true, wantDetail: "test message from sesame-test@example.com to " + ses.MailboxSimulatorSuccess + " accepted"},
		{name: "test message in the sandbox", opts: Options{TestTo: "someone@example.org"}, credRegion: "us-east-1", credPort: 587,
			wantErr: "the account is in the SES sandbox in us-east-1", wantLogin: "ok", wantAuths: 2, wantFiles: true},
		{name: "dry run writes nothing", opts: Options{DryRun: true}, credRegion: "us-east-1", credPort: 587},
		{name: "dry run before any credentials: to do, not failed", opts: Options{DryRun: true}, credRegion: "",
			wantDetail: "dry run: write the Postfix relay files for email-smtp.us-east-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRelayFixture(t, tt.opts)
			if tt.credRegion != "" {
				f.credentials(t, tt.credRegion, tt.credPort)
			}
			rep, err := f.run(&Relay{OSRelease: filepath.Join(t.TempDir(), "none")})
			f.noSecrets(t)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run error = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if f.srv.Auths() != tt.wantAuths {
				t.Errorf("%d logins, want %d", f.srv.Auths(), tt.wantAuths)
			}
			if _, err := os.Stat(filepath.Join(f.out, MainCFSnippetFile)); (err == nil) != tt.wantFiles {
				t.Errorf("main.cf snippet exists = %v, want %v", err == nil, tt.wantFiles)
			}
			if reps := f.relayReports(); tt.wantLogin != "" && (len(reps) == 0 || reps[len(reps)-1].LoginTest != tt.wantLogin) {
				t.Errorf("published relay reports %+v, want login test %q", reps, tt.wantLogin)
			}
			if tt.wantDetail != "" && !strings.Contains(rep.Steps[0].Detail, tt.wantDetail) {
				t.Errorf("detail %q lacks %q", rep.Steps[0].Detail, tt.wantDetail)
			}
			if !tt.wantFiles || tt.wantErr != "" {
				return
			}
			port := ses.PortOrDefault(tt.opts.SMTPPort)
			entry, err := postfix.ReadSASLPasswd(f.out)
			if err != nil || entry.Port != port || entry.Host != ses.SMTPHost("us-east-1") {
				t.Errorf("sasl_passwd = %+v, %v; want port %d", entry, err, port)
			}
			if rep.Steps[0].Status != StatusDone {
				t.Errorf("status %s, want done", rep.Steps[0].Status)
			}
			for role, name := range map[string]string{RoleMainCF: MainCFSnippetFile, RoleSASLPasswd: SASLPasswdFile, RoleApplyScript: ApplyScriptFile} {
				want := filepath.Join(f.out, name)
				if f.env.Record.Files[role] != want || f.env.Facts.Relay.Files[role] != want {
					t.Errorf("%s: record %q, facts %q, want %q", role, f.env.Record.Files[role], f.env.Facts.Relay.Files[role], want)
				}
			}
			if len(rep.Files) != 3 || rep.SMTP == nil || rep.SMTP.Username != testKeyID {
				t.Errorf("report files %q smtp %+v", rep.Files, rep.SMTP)
			}
		})
	}
}

// TestRelayStepIdempotent runs the step again in the same run (Done at
// once, nothing rewritten, no second login) and in a new run (the files
// stay, the login is tested again).
func TestRelayStepIdempotent(t *testing.T) {
	f := newRelayFixture(t, Options{})
	f.credentials(t, "us-east-1", 587)
	step := &Relay{}
	if _, err := f.run(step); err != nil {
		t.Fatal(err)
	}
	before := map[string]os.FileInfo{}
	for _, name := range []string{MainCFSnippetFile, SASLPasswdFile, ApplyScriptFile} {
		st, err := os.Stat(filepath.Join(f.out, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = st
	}
	res, err := step.Check(context.Background(), f.env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check after the run = %+v, %v; want done", res, err)
	}
	if _, err := f.run(&Relay{}); err != nil {
		t.Fatal(err)
	}
	if f.srv.Auths() != 2 {
		t.Errorf("%d logins over two runs, want 2", f.srv.Auths())
	}
	for name, st := range before {
		now, err := os.Stat(filepath.Join(f.out, name))
		if err != nil || !os.SameFile(st, now) {
			t.Errorf("%s was rewritten by a run that had nothing to write", name)
		}
	}
}

func TestRelayStepLoginRefused(t *testing.T) {
	f := newRelayFixture(t, Options{})
	// The password on disk was derived for us-west-2 but sits under the
	// us-east-1 host: the blog post's mistake, made by hand.
	if _, err := postfix.WriteSASLPasswd(f.out, mta.Credentials{Host: ses.SMTPHost("us-east-1"), Port: 587, Username: testKeyID,
		Password: mta.Secret(ses.SMTPPassword(testSecret, "us-west-2"))}); err != nil {
		t.Fatal(err)
	}
	rep, err := f.run(&Relay{})
	f.noSecrets(t)
	if err == nil || !strings.Contains(err.Error(), "derived for another region than us-east-1") {
		t.Fatalf("Run = %v, want the region explanation", err)
	}
	if rep.Steps[0].Status != StatusFailed {
		t.Errorf("status %s, want failed", rep.Steps[0].Status)
	}
	retries := 0
	for _, e := range f.events {
		if e.Kind == EventRetrying {
			retries++
		}
	}
	if retries == 0 || f.srv.Auths() != retries+1 {
		t.Errorf("%d retry events for %d logins", retries, f.srv.Auths())
	}
	if reps := f.relayReports(); len(reps) == 0 || reps[len(reps)-1].LoginTest != "failed" {
		t.Errorf("relay reports %+v, want a failed login test", reps)
	}
}

func TestRelayPlan(t *testing.T) {
	f := newRelayFixture(t, Options{TestTo: ses.MailboxSimulatorSuccess})
	f.credentials(t, "us-east-1", 587)
	p, err := (&Relay{}).Plan(context.Background(), f.env)
	if err != nil {
		t.Fatal(err)
	}
	if p.NeedsApproval {
		t.Error("writing into sesame's own directory asks for approval")
	}
	writes := 0
	for _, c := range p.Changes {
		if c.Action == ActionWrite {
			writes++
		}
	}
	// The smtp-user step's sasl_passwd is already what the relay writes.
	if writes != 2 {
		t.Errorf("plan writes %d files, want 2 (the snippet and the script): %+v", writes, p.Changes)
	}
	for _, want := range []string{"write the relay files for [email-smtp.us-east-1.amazonaws.com]:587", "test the SMTP login at " + f.srv.Addr, "send one test message"} {
		if !strings.Contains(p.Summary, want) {
			t.Errorf("summary %q lacks %q", p.Summary, want)
		}
	}
}
