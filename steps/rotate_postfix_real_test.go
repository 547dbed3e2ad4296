package steps_test

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/internal/postfixtest"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// TestRealPostfixRotate rotates the key of a real Postfix that relays
// through the simulated SES endpoint: a message injected before the
// rotation, one right after the new password is written, one right after
// the new key's login test passed (before the old key is deactivated) and
// one after the rotation all arrive, none is deferred for a refused login,
// the last is sent with the new key, and the old key is gone.
func TestRealPostfixRotate(t *testing.T) {
	postfixtest.Skip(t)
	ctx := context.Background()
	sim := awssim.New(awssim.Options{})
	oldKey, secret := postfixtest.SimAccount(t, sim, "us-east-1")
	endpoint := postfixtest.StartSimSMTP(t, sim, "us-east-1")
	url := postfixtest.ServeSim(t, sim)
	ic := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: postfixtest.OperatorCreds})

	// The setup as onboarding with --apply-postfix leaves it: sesame's
	// sasl_passwd in --out, installed into the running Postfix.
	out := filepath.Join(t.TempDir(), "out")
	if _, err := postfix.WriteSASLPasswd(out, mta.Credentials{Host: ses.SMTPHost("us-east-1"), Port: 587,
		Username: oldKey, Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1"))}); err != nil {
		t.Fatal(err)
	}
	pf := postfixtest.New(t)
	// Postfix relays to SES's own host name on 587 and verifies the
	// certificate against it (smtp_tls_security_level = secure): that
	// name leads to the simulator inside the instance (StartResolving),
	// and only the CA file is the simulator's.
	ip, _, _ := net.SplitHostPort(endpoint.Addr)
	toSim := func(c *postfix.Config) { c.CAFile = endpoint.CertFile }
	// sesame's own login test reaches the same simulated endpoint on
	// 127.0.0.1, which its certificate names.
	loginAddr, stopLogin, err := sim.ServeSMTP(awssim.SMTPConfig{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopLogin)
	cfg := postfix.Config{Region: "us-east-1", Port: 587, Username: oldKey, Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1")), PostfixDir: pf.ConfDir}
	toSim(&cfg)
	if _, err := (postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}).Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	pf.StartResolving(map[string]string{ses.SMTPHost("us-east-1"): ip}, "")

	sent := 0
	send := func(subject string) {
		sent++
		pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", subject, "rotation test")
	}
	arrived := func(n int) {
		t.Helper()
		if !postfixtest.WaitFor(60*time.Second, func() bool { return len(sim.Messages()) >= n }) {
			t.Fatalf("%d of %d messages arrived in 60 s; queue:\n%s\nlog:\n%s", len(sim.Messages()), n, pf.Queue(), pf.Log())
		}
	}
	send("before")
	arrived(1)

	env := steps.NewEnv(awsapi.Clients{IAM: ic}, &state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: out, SMTPUser: "ses-smtp-example-com"},
		steps.Options{Yes: true, NoInput: true, SMTPEndpoint: loginAddr, SMTPCA: endpoint.CertFile})
	env.Facts.Account = &steps.AccountInfo{ID: awssim.DefaultAccountID}
	// Onboarding recorded the user as sesame's and the Postfix it
	// installed into.
	env.Record.UserCreated, env.Record.KeysCreated, env.Record.PostfixDir = true, []string{oldKey}, pf.ConfDir
	env.Emit = func(e steps.Event) {
		switch {
		case e.Kind == steps.EventInfo && strings.HasPrefix(e.Detail, "created access key"):
			send("during: new password written")
		case e.Kind == steps.EventInfo && strings.HasPrefix(e.Detail, "SMTP login as"):
			send("during: new key logged in")
		}
	}
	rot := steps.RotateSteps(steps.RotateOptions{Sbin: postfixtest.Sbin, RelayOverride: toSim})[1:]
	if _, err := (&steps.Runner{Steps: rot}).Run(ctx, env); err != nil {
		t.Fatalf("rotate: %v\nlog:\n%s", err, pf.Log())
	}
	send("after")
	if sent != 4 {
		t.Fatalf("%d messages injected, want one before, two during and one after the rotation", sent)
	}
	arrived(sent)

	keys, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ses-smtp-example-com")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) == oldKey {
		t.Fatalf("keys after the rotation: %+v, want one new key", keys.AccessKeyMetadata)
	}
	newKey := aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId)
	msgs := sim.Messages()
	if last := msgs[len(msgs)-1]; last.AuthUser != newKey || !strings.Contains(string(last.Data), "Subject: after") {
		t.Errorf("the last message was sent as %s (%q…), want the new key %s", last.AuthUser, string(last.Data[:min(60, len(last.Data))]), newKey)
	}
	if log := pf.Log(); strings.Contains(log, "535") || strings.Contains(log, "status=deferred") {
		t.Errorf("a message was deferred during the rotation:\n%s", log)
	}
	if len(msgs) != sent {
		t.Errorf("%d messages arrived, %d sent", len(msgs), sent)
	}
}
