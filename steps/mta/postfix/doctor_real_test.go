package postfix_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
	"github.com/sesame-tool/sesame/steps/internal/postfixtest"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
)

// writeUp is the hand-made configuration of a typical write-up: relayhost in
// us-east-1, RHEL's CA path on Debian, the obsolete smtp_use_tls, TLS
// without verification.
func writeUp(dir string) string {
	return strings.Join([]string{
		"relayhost = [email-smtp.us-east-1.amazonaws.com]:587",
		"smtp_sasl_auth_enable = yes",
		"smtp_sasl_security_options = noanonymous",
		"smtp_sasl_password_maps = hash:" + filepath.Join(dir, "sasl_passwd"),
		"smtp_use_tls = yes",
		"smtp_tls_security_level = encrypt",
		"smtp_tls_note_starttls_offer = yes",
		"smtp_tls_CAfile = /etc/ssl/certs/ca-bundle.crt",
		"",
	}, "\n")
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func ids(d postfix.Diagnosis, sev postfix.Severity) []string {
	var out []string
	for _, f := range d.Findings {
		if f.Severity == sev {
			out = append(out, f.ID)
		}
	}
	return out
}

// TestRealPostfixDoctorWriteUp is issue 13's story with a real Postfix: set
// up exactly as the write-up (password for us-west-2, relay host in
// us-east-1, RHEL's CA path, smtp_use_tls), SES's host names resolving to
// the simulator. The doctor names each fault and why the queued mail
// waits; the fix (doctor --fix's code: Diff, Apply) repairs them keeping
// the operator's other sasl_passwd entry, with backups; the next doctor is
// healthy, and the waiting message arrives at the simulator authenticated
// with the access key, over TLS verified against the relay host's name.
func TestRealPostfixDoctorWriteUp(t *testing.T) {
	postfixtest.Skip(t)
	ctx := context.Background()
	sim := awssim.New(awssim.Options{})
	keyID, secret := postfixtest.SimAccount(t, sim, "us-west-2")
	ep := postfixtest.StartSimSMTP(t, sim, "us-west-2")
	ip, cert := ep.IP, ep.CertFile

	pf := postfixtest.New(t)
	appendFile(t, filepath.Join(pf.ConfDir, "main.cf"), writeUp(pf.ConfDir))
	passwd := filepath.Join(pf.ConfDir, "sasl_passwd")
	operators := "[smtp.other-relay.example]:587 bob:bobs-password\n"
	sesLine := "[email-smtp.us-west-2.amazonaws.com]:587 " + keyID + ":" + ses.SMTPPassword(secret, "us-west-2") + "\n"
	if err := os.WriteFile(passwd, []byte(operators+sesLine), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pf.Run("postmap", "hash:"+passwd); err != nil {
		t.Fatal(err)
	}
	pf.StartResolving(map[string]string{"email-smtp.us-east-1.amazonaws.com": ip, "email-smtp.us-west-2.amazonaws.com": ip}, cert)
	pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", "write-up", "waits until the relay is repaired")
	if !postfixtest.WaitFor(30*time.Second, func() bool { return strings.Contains(pf.Queue(), "TLS") }) {
		t.Fatalf("the message did not wait for TLS; queue:\n%s\nlog:\n%s", pf.Queue(), pf.Log())
	}

	inst := postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}
	debian := postfix.ParseOSRelease("ID=debian\n")
	opts := postfix.DoctorOptions{Distro: debian}
	d, err := inst.Doctor(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d.Worst() != postfix.SeverityBroken {
		t.Errorf("doctor says %s, want broken", d.Worst())
	}
	broken, warnings := ids(d, postfix.SeverityBroken), ids(d, postfix.SeverityWarning)
	for _, want := range []string{"region-mismatch", "ca-file", "queue-tls"} {
		if !slices.Contains(broken, want) {
			t.Errorf("broken findings %v lack %s", broken, want)
		}
	}
	for _, want := range []string{"obsolete-smtp_use_tls", "tls-level"} {
		if !slices.Contains(warnings, want) {
			t.Errorf("warnings %v lack %s", warnings, want)
		}
	}
	for _, f := range d.Findings {
		if f.ID == "region-mismatch" && (!strings.Contains(f.Summary, "530") || !strings.Contains(f.Summary, "bounces")) {
			t.Errorf("the region mismatch does not say it ends in a 530 bounce: %s", f.Summary)
		}
		t.Logf("%s %s: %s", f.Severity, f.ID, f.Summary)
	}
	if d.Repair == nil || d.Repair.Region != "us-west-2" || d.Repair.Username != keyID {
		t.Fatalf("repair = %+v, want the us-west-2 credentials of %s", d.Repair, keyID)
	}

	// doctor --fix: the plan says current → new with the finding's reason.
	changes, err := inst.Diff(ctx, *d.Repair)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"relayhost":               {"[email-smtp.us-east-1.amazonaws.com]:587", "[email-smtp.us-west-2.amazonaws.com]:587"},
		"smtp_tls_CAfile":         {"/etc/ssl/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"},
		"smtp_tls_security_level": {"encrypt", "secure"},
		"smtp_use_tls":            {"yes", ""},
	}
	for _, c := range changes {
		if w, ok := want[c.Name]; ok {
			if c.Current != w[0] || c.Value != w[1] || d.Reason(c.Name) == "" {
				t.Errorf("plan for %s: %q → %q (reason %q), want %q → %q with a reason", c.Name, c.Current, c.Value, d.Reason(c.Name), w[0], w[1])
			}
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("the plan lacks %v", want)
	}
	applied, err := inst.Apply(ctx, *d.Repair)
	if err != nil {
		t.Fatal(err)
	}
	if !applied.Reloaded {
		t.Errorf("apply = %+v, want a reload of the running Postfix", applied)
	}
	if backups, _ := filepath.Glob(filepath.Join(pf.ConfDir, "main.cf.sesame-*")); len(backups) != 1 {
		t.Errorf("main.cf backups %q, want one", backups)
	}
	if got, _ := os.ReadFile(passwd); !strings.Contains(string(got), operators) || !strings.Contains(string(got), sesLine) {
		t.Errorf("sasl_passwd after the fix:\n%s\nwant the operator's entry kept beside SES's", got)
	}
	if out, _ := pf.Run("postconf", "-n"); strings.Contains(out, "smtp_use_tls") {
		t.Errorf("smtp_use_tls is still set:\n%s", out)
	}
	if err := inst.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !postfixtest.WaitFor(60*time.Second, func() bool { return len(sim.Messages()) == 1 }) {
		t.Fatalf("the simulator received nothing in 60 s; queue:\n%s\nlog:\n%s", pf.Queue(), pf.Log())
	}
	if m := sim.Messages()[0]; m.AuthUser != keyID || m.Region != "us-west-2" || !strings.Contains(string(m.Data), "Subject: write-up") {
		t.Errorf("received %+v, want the message authenticated as %s in us-west-2", m, keyID)
	}
	if !strings.Contains(pf.Log(), "Verified TLS connection established to email-smtp.us-west-2.amazonaws.com") {
		t.Errorf("the log shows no verified TLS connection to the relay host:\n%s", pf.Log())
	}

	after, err := inst.Doctor(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if after.Worst() != postfix.SeverityOK {
		for _, f := range after.Findings {
			t.Logf("%s %s: %s", f.Severity, f.ID, f.Summary)
		}
		t.Errorf("the doctor after the fix says %s, want healthy", after.Worst())
	}
}

// TestRealPostfixSecureTLS proves the TLS setting sesame writes
// (smtp_tls_security_level = secure, smtp_tls_secure_cert_match = nexthop,
// dot-nexthop, the system CA bundle) with a real Postfix and relayhost
// [email-smtp.us-west-2.amazonaws.com]:587 as sesame writes it: a server
// whose certificate a trusted CA issued for that name gets the message;
// one whose certificate names another host, or is self-signed and not
// trusted, is never sent the password: TLS fails before AUTH and the
// message waits.
func TestRealPostfixSecureTLS(t *testing.T) {
	postfixtest.Skip(t)
	cases := []struct {
		name string
		// certRegion is the region whose SES host name the server's
		// certificate names; trusted puts it in the system CA bundle.
		certRegion string
		trusted    bool
		relays     bool
		reason     string
	}{
		{"a trusted certificate naming the relay host relays", "us-west-2", true, true, ""},
		{"a trusted certificate for another host name gets no AUTH", "eu-west-1", true, false, "Server certificate not verified"},
		{"a self-signed certificate that no CA vouches for gets no AUTH", "us-west-2", false, false, "Server certificate not verified"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			sim := awssim.New(awssim.Options{})
			keyID, secret := postfixtest.SimAccount(t, sim, "us-west-2")
			ep := postfixtest.StartSimSMTP(t, sim, c.certRegion)
			ip, cert := ep.IP, ep.CertFile
			pf := postfixtest.New(t)
			cfg := postfix.Config{Region: "us-west-2", Port: 587, Username: keyID, Password: mta.Secret(ses.SMTPPassword(secret, "us-west-2")),
				PostfixDir: pf.ConfDir, Distro: postfix.ParseOSRelease("ID=debian\n")}
			if _, err := (postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}).Apply(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			ca := ""
			if c.trusted {
				ca = cert
			}
			pf.StartResolving(map[string]string{"email-smtp.us-west-2.amazonaws.com": ip}, ca)
			pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", "tls", "checks the certificate")
			if c.relays {
				if !postfixtest.WaitFor(30*time.Second, func() bool { return len(sim.Messages()) == 1 }) {
					t.Fatalf("nothing relayed in 30 s; queue:\n%s\nlog:\n%s", pf.Queue(), pf.Log())
				}
				if !strings.Contains(pf.Log(), "Verified TLS connection established to email-smtp.us-west-2.amazonaws.com") {
					t.Errorf("no verified TLS connection in the log:\n%s", pf.Log())
				}
				return
			}
			if !postfixtest.WaitFor(30*time.Second, func() bool { return strings.Contains(pf.Queue(), c.reason) }) {
				t.Fatalf("the message does not wait with %q; queue:\n%s\nlog:\n%s", c.reason, pf.Queue(), pf.Log())
			}
			if n := len(sim.Messages()); n != 0 {
				t.Errorf("the server received %d messages", n)
			}
			if strings.Contains(pf.Log(), "SASL authentication") {
				t.Errorf("Postfix tried to log in to a server it did not verify:\n%s", pf.Log())
			}
		})
	}
}

// TestRealPostfixRewriteLocalSenders: system mail from root@this-host is
// refused by SES (554 not verified); the doctor says so from the log and
// names the local sender; with the rewrite (smtp_generic_maps, applied
// by --apply-postfix's code) the next message from root reaches SES as
// the verified domain's address.
func TestRealPostfixRewriteLocalSenders(t *testing.T) {
	postfixtest.Skip(t)
	ctx := context.Background()
	sim := awssim.New(awssim.Options{})
	keyID, secret := postfixtest.SimAccount(t, sim, "us-west-2")
	ep := postfixtest.StartSimSMTP(t, sim, "us-west-2")
	ip, cert := ep.IP, ep.CertFile
	pf := postfixtest.New(t)
	inst := postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}
	cfg := postfix.Config{Region: "us-west-2", Port: 587, Username: keyID, Password: mta.Secret(ses.SMTPPassword(secret, "us-west-2")),
		PostfixDir: pf.ConfDir, Distro: postfix.ParseOSRelease("ID=debian\n")}
	if _, err := inst.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	pf.StartResolving(map[string]string{"email-smtp.us-west-2.amazonaws.com": ip}, cert)
	pf.Sendmail("root", "success@simulator.amazonses.com", "cron", "system mail")
	if !postfixtest.WaitFor(30*time.Second, func() bool { return strings.Contains(pf.Log(), "not verified") }) {
		t.Fatalf("SES did not refuse root's mail; log:\n%s", pf.Log())
	}
	d, err := inst.Doctor(ctx, postfix.DoctorOptions{Distro: cfg.Distro})
	if err != nil {
		t.Fatal(err)
	}
	var local *postfix.Finding
	for i, f := range d.Findings {
		if f.ID == "local-senders" {
			local = &d.Findings[i]
		}
	}
	if local == nil || !strings.Contains(local.Summary, "root@sesame-test.localdomain") || !strings.Contains(local.Fix, "--rewrite-local-senders") {
		t.Fatalf("no local-senders finding naming root@sesame-test.localdomain: %+v", d.Findings)
	}

	cfg.RewriteSender = "postmaster@example.com"
	changes, err := inst.Diff(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(changes, func(c postfix.Change) bool {
		return c.Name == "smtp_generic_maps" && c.Action == postfix.Update && c.Value == "hash:"+filepath.Join(pf.ConfDir, "generic")
	}) {
		t.Errorf("the plan lacks smtp_generic_maps: %+v", changes)
	}
	if _, err := inst.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	pf.Sendmail("root", "success@simulator.amazonses.com", "cron again", "system mail, rewritten")
	if !postfixtest.WaitFor(30*time.Second, func() bool { return len(sim.Messages()) > 0 }) {
		t.Fatalf("nothing relayed after the rewrite; log:\n%s", pf.Log())
	}
	if m := sim.Messages()[0]; m.From != "postmaster@example.com" || !strings.Contains(string(m.Data), "postmaster@example.com") {
		t.Errorf("relayed from %q:\n%s", m.From, m.Data)
	}
}

// TestRealPostfixDoctor530Bounce: with only the region mismatch of the
// write-up (the CA file right), Postfix finds no password for the relay
// host, SES answers 530 and the mail bounces; the doctor names the
// mismatch and groups the bounce from the log under 530 with its cause.
func TestRealPostfixDoctor530Bounce(t *testing.T) {
	postfixtest.Skip(t)
	ctx := context.Background()
	sim := awssim.New(awssim.Options{})
	keyID, secret := postfixtest.SimAccount(t, sim, "us-west-2")
	ep := postfixtest.StartSimSMTP(t, sim, "us-east-1")
	ip, cert := ep.IP, ep.CertFile
	pf := postfixtest.New(t)
	conf := strings.Replace(writeUp(pf.ConfDir), "/etc/ssl/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt", 1)
	appendFile(t, filepath.Join(pf.ConfDir, "main.cf"), conf)
	passwd := filepath.Join(pf.ConfDir, "sasl_passwd")
	if err := os.WriteFile(passwd, []byte("[email-smtp.us-west-2.amazonaws.com]:587 "+keyID+":"+ses.SMTPPassword(secret, "us-west-2")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pf.Run("postmap", "hash:"+passwd); err != nil {
		t.Fatal(err)
	}
	pf.StartResolving(map[string]string{"email-smtp.us-east-1.amazonaws.com": ip}, cert)
	pf.Sendmail("sesame-test@example.com", "success@simulator.amazonses.com", "530", "bounces")
	if !postfixtest.WaitFor(30*time.Second, func() bool { return strings.Contains(pf.Log(), "status=bounced") }) {
		t.Fatalf("the message did not bounce; queue:\n%s\nlog:\n%s", pf.Queue(), pf.Log())
	}
	if !strings.Contains(pf.Log(), "530") {
		t.Fatalf("the bounce is not SES's 530:\n%s", pf.Log())
	}
	d, err := (postfix.Install{Dir: pf.ConfDir, Sbin: postfixtest.Sbin}).Doctor(ctx, postfix.DoctorOptions{Distro: postfix.ParseOSRelease("ID=debian\n")})
	if err != nil {
		t.Fatal(err)
	}
	broken := ids(d, postfix.SeverityBroken)
	for _, want := range []string{"region-mismatch", "log-530"} {
		if !slices.Contains(broken, want) {
			t.Errorf("broken findings %v lack %s", broken, want)
		}
	}
	for _, f := range d.Findings {
		if f.ID == "log-530" && (!strings.Contains(f.Summary, "bounced") || !strings.Contains(f.Summary, "exactly the relayhost")) {
			t.Errorf("the 530 finding does not say the mail bounced and why: %s", f.Summary)
		}
	}
}
