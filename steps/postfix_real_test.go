package steps_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/internal/postfixtest"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// settingsMap is the name → value of main.cf lines.
func settingsMap(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, " = "); ok && !strings.HasPrefix(line, "#") {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// TestRealPostfixRelay is the relay proven end to end: a private Debian
// Postfix, configured with the settings and sasl_passwd sesame wrote
// (relay host pointed at the simulated SES SMTP endpoint, its certificate
// as the CA file), relays a message that the endpoint receives
// authenticated with the new access key; with a password derived for
// another region Postfix gets 535 and the message stays deferred.
func TestRealPostfixRelay(t *testing.T) {
	postfixtest.Skip(t)
	ctx := context.Background()
	sim := awssim.New(awssim.Options{})
	keyID, secret := postfixtest.SimAccount(t, sim, "us-east-1")
	endpoint := postfixtest.StartSimSMTP(t, sim, "us-east-1")

	// What sesame writes: the smtp-user step's sasl_passwd, then the relay
	// step's files (login test off: the real SES host is not reachable here).
	out := filepath.Join(t.TempDir(), "out")
	if _, err := postfix.WriteSASLPasswd(out, mta.Credentials{Host: ses.SMTPHost("us-east-1"), Port: 587,
		Username: keyID, Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1"))}); err != nil {
		t.Fatal(err)
	}
	pf := postfixtest.New(t)
	env := steps.NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: out},
		steps.Options{NoSMTPTest: true, PostfixDir: pf.ConfDir})
	if _, err := (&steps.Runner{Steps: []steps.Step{&steps.Relay{}}}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(filepath.Join(out, steps.MainCFSnippetFile))
	if err != nil {
		t.Fatal(err)
	}
	entry, err := postfix.ReadSASLPasswd(out)
	if err != nil {
		t.Fatal(err)
	}

	// The same files, except that the simulator's certificate is the CA
	// file; SES's host name leads to the simulator (StartResolving).
	ip, _, _ := net.SplitHostPort(endpoint.Addr)
	cfg := postfix.Config{Region: "us-east-1", Port: 587, Username: entry.Username, Password: entry.Password,
		PostfixDir: pf.ConfDir, CAFile: endpoint.CertFile}
	want, got := settingsMap(string(written)), settingsMap(cfg.MainCF())
	for k, v := range want {
		switch k {
		case "smtp_tls_CAfile":
			if got[k] != endpoint.CertFile {
				t.Fatalf("CA file %q", got[k])
			}
		default:
			if got[k] != v {
				t.Fatalf("%s = %q in the private config, %q in sesame's files", k, got[k], v)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("settings differ: %v vs %v", got, want)
	}

	// Install them with --apply-postfix's code, into the stopped instance.
	inst := postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}
	diff, err := inst.Diff(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff[0].Name != "relayhost" || diff[0].Action != postfix.Update || diff[0].Current != "" || diff[0].Value != cfg.RelayHost() {
		t.Errorf("diff starts with %+v, want relayhost \"\" → %s", diff[0], cfg.RelayHost())
	}
	applied, err := inst.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !applied.Changed || applied.Backup == "" || applied.Reloaded {
		t.Errorf("first apply = %+v, want a change, a backup and no reload (not running)", applied)
	}
	installed, err := os.ReadFile(filepath.Join(pf.ConfDir, steps.SASLPasswdFile))
	if err != nil {
		t.Fatal(err)
	}
	sesames, _ := os.ReadFile(filepath.Join(out, steps.SASLPasswdFile))
	if string(installed) != string(sesames) {
		t.Fatalf("installed sasl_passwd is not sesame's")
	}
	for _, f := range []string{steps.SASLPasswdFile, steps.SASLPasswdFile + ".db"} {
		if st, err := os.Stat(filepath.Join(pf.ConfDir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want 0600", f, st, err)
		}
	}
	if again, err := inst.Apply(ctx, cfg); err != nil || again.Changed {
		t.Errorf("second apply = %+v, %v; want no change", again, err)
	}

	pf.StartResolving(map[string]string{ses.SMTPHost("us-east-1"): ip}, "")
	pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", "relay test", "through the simulator")
	if !postfixtest.WaitFor(60*time.Second, func() bool { return len(sim.Messages()) == 1 }) {
		t.Fatalf("the simulator received nothing in 60 s; queue:\n%s", pf.Queue())
	}
	m := sim.Messages()[0]
	if m.AuthUser != keyID || !strings.Contains(string(m.Data), "Subject: relay test") {
		t.Fatalf("received %+v, want a message authenticated as %s", m, keyID)
	}

	// A password for another region: SES answers 535, the mail waits.
	cfg.Password = mta.Secret(ses.SMTPPassword(secret, "us-west-2"))
	if applied, err := inst.Apply(ctx, cfg); err != nil || !applied.Reloaded {
		t.Fatalf("apply the wrong password = %+v, %v; want a reload", applied, err)
	}
	pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", "wrong region", "must stay queued")
	if !postfixtest.WaitFor(60*time.Second, func() bool {
		return strings.Contains(pf.Log(), "535") && strings.Contains(pf.Queue(), "Authentication Credentials Invalid")
	}) {
		t.Fatalf("no deferred 535 in 60 s; queue:\n%s\nlog:\n%s", pf.Queue(), pf.Log())
	}
	if n := len(sim.Messages()); n != 1 {
		t.Errorf("the simulator received %d messages, want only the first", n)
	}
	for _, line := range strings.Split(pf.Log(), "\n") {
		if strings.Contains(line, "status=") {
			t.Log(line)
		}
	}
	if !strings.Contains(pf.Queue(), "1 Request") {
		t.Errorf("the message did not stay deferred:\n%s", pf.Queue())
	}
}

// TestRealPostfixApplyBrokenBefore breaks the instance so that postfix
// check fails before sesame changes anything: --apply-postfix says the
// configuration was already broken, with the reason postfix check printed
// (captured although no terminal is attached), and leaves every file
// byte-identical.
func TestRealPostfixApplyBrokenBefore(t *testing.T) {
	postfixtest.Skip(t)
	pf := postfixtest.New(t)
	mainCF := filepath.Join(pf.ConfDir, "main.cf")
	f, err := os.OpenFile(mainCF, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("queue_directory = /nonexistent/sesame-queue\n")
	f.Close()
	before, _ := os.ReadFile(mainCF)
	cfg := postfix.Config{Region: "eu-west-1", Port: 587, Username: "AKIAIOSFODNN7EXAMPLE", Password: "BPW", PostfixDir: pf.ConfDir}
	_, err = postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}.Apply(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "already broken, before sesame changed anything") ||
		!strings.Contains(err.Error(), "/nonexistent/sesame-queue") {
		t.Fatalf("Apply = %v, want the configuration said to be broken before, with postfix check's reason", err)
	}
	after, _ := os.ReadFile(mainCF)
	if string(after) != string(before) {
		t.Errorf("main.cf changed:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(pf.ConfDir, steps.SASLPasswdFile)); !os.IsNotExist(err) {
		t.Errorf("a sasl_passwd was written: %v", err)
	}
	if backups, _ := filepath.Glob(mainCF + ".sesame-*"); len(backups) != 0 {
		t.Errorf("backups %q of an apply that changed nothing", backups)
	}
}

// TestRealPostfixApplyRestores makes postfix check refuse the new
// configuration (a postfix command that passes the first check and fails
// the second, with a reason) and checks that --apply-postfix puts main.cf
// and the operator's sasl_passwd back byte for byte, with that reason.
func TestRealPostfixApplyRestores(t *testing.T) {
	postfixtest.Skip(t)
	pf := postfixtest.New(t)
	sbin := t.TempDir()
	for _, tool := range []string{"postconf", "postmap", "postqueue"} {
		if err := os.Symlink(filepath.Join(postfixtest.Sbin, tool), filepath.Join(sbin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	marker := filepath.Join(sbin, "checked-once")
	script := "#!/bin/sh\nif [ \"$3\" = check ] && [ -e " + marker + " ]; then echo 'postfix: fatal: simulated refusal' >&2; exit 1; fi\n" +
		"[ \"$3\" = check ] && touch " + marker + "\nexec " + postfixtest.Sbin + "/postfix \"$@\"\n"
	if err := os.WriteFile(filepath.Join(sbin, "postfix"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	mainCF := filepath.Join(pf.ConfDir, "main.cf")
	passwd := filepath.Join(pf.ConfDir, steps.SASLPasswdFile)
	other := []byte("[smtp.other.example]:587 bob:secret\n")
	if err := os.WriteFile(passwd, other, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(mainCF)
	cfg := postfix.Config{Region: "eu-west-1", Port: 587, Username: "AKIAIOSFODNN7EXAMPLE", Password: "BPW", PostfixDir: pf.ConfDir}
	_, err := postfix.Install{Dir: pf.ConfDir, Sbin: sbin}.Apply(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "postfix check refused") || !strings.Contains(err.Error(), "simulated refusal") ||
		!strings.Contains(err.Error(), "restored") {
		t.Fatalf("Apply = %v, want a refused check with its reason and a restore", err)
	}
	if after, _ := os.ReadFile(mainCF); string(after) != string(before) {
		t.Errorf("main.cf was not restored:\n%s", after)
	}
	if after, _ := os.ReadFile(passwd); string(after) != string(other) {
		t.Errorf("sasl_passwd was not restored:\n%s", after)
	}
}

// TestRealPostfixRelayStepApply runs the relay step with --apply-postfix
// through the runner: without --yes under --no-input nothing changes and
// the plan shows the main.cf diff; with --yes Postfix is configured; a
// second run finds it done and changes nothing.
func TestRealPostfixRelayStepApply(t *testing.T) {
	postfixtest.Skip(t)
	pf := postfixtest.New(t)
	out := filepath.Join(t.TempDir(), "out")
	if _, err := postfix.WriteSASLPasswd(out, mta.Credentials{Host: ses.SMTPHost("eu-west-1"), Port: 587,
		Username: "AKIAIOSFODNN7EXAMPLE", Password: mta.Secret(ses.SMTPPassword("some+secret+key", "eu-west-1"))}); err != nil {
		t.Fatal(err)
	}
	mainCF := filepath.Join(pf.ConfDir, "main.cf")
	before, _ := os.ReadFile(mainCF)
	run := func(opts steps.Options) (*steps.Report, *steps.Plan, error) {
		opts.ApplyPostfix, opts.PostfixDir, opts.NoSMTPTest = true, pf.ConfDir, true
		env := steps.NewEnv(awsapi.Clients{}, &state.Answers{Region: "eu-west-1", OutDir: out}, opts)
		var plan *steps.Plan
		env.Emit = func(e steps.Event) {
			if e.Kind == steps.EventPlan {
				plan = e.Plan
			}
		}
		rep, err := (&steps.Runner{Steps: []steps.Step{&steps.Relay{Sbin: postfixtest.Sbin}}}).Run(context.Background(), env)
		return rep, plan, err
	}

	_, plan, err := run(steps.Options{NoInput: true})
	if steps.ExitCode(err) != 2 || plan == nil || !plan.NeedsApproval {
		t.Fatalf("--apply-postfix without --yes = %v (plan %+v), want exit 2 with a plan to approve", err, plan)
	}
	found := false
	for _, c := range plan.Changes {
		if c.Name == "relayhost" && c.Current == "" && c.Value == "[email-smtp.eu-west-1.amazonaws.com]:587" && c.Action == steps.ActionUpdate {
			found = true
		}
	}
	if !found {
		t.Errorf("the plan lacks relayhost \"\" → [email-smtp.eu-west-1.amazonaws.com]:587: %+v", plan.Changes)
	}
	if now, _ := os.ReadFile(mainCF); string(now) != string(before) {
		t.Fatal("main.cf changed without approval")
	}

	rep, _, err := run(steps.Options{Yes: true})
	if err != nil || rep.Steps[0].Status != steps.StatusDone {
		t.Fatalf("--apply-postfix --yes = %v, %+v", err, rep.Steps)
	}
	got, err := pf.Run("postconf", "-h", "relayhost", "smtp_sasl_password_maps")
	if err != nil || got != "[email-smtp.eu-west-1.amazonaws.com]:587\nhash:"+pf.ConfDir+"/sasl_passwd\n" {
		t.Errorf("postconf after apply = %q, %v", got, err)
	}
	backups, _ := filepath.Glob(mainCF + ".sesame-*")
	if len(backups) != 1 {
		t.Errorf("backups %q, want one", backups)
	}

	rep, plan, err = run(steps.Options{NoInput: true})
	if err != nil || rep.Steps[0].Status != steps.StatusDone || plan != nil {
		t.Fatalf("second run = %v, %+v, plan %+v; want done with nothing to plan", err, rep.Steps, plan)
	}
	if again, _ := filepath.Glob(mainCF + ".sesame-*"); len(again) != 1 {
		t.Errorf("the second run made another backup: %q", again)
	}
}
