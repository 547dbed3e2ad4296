package postfix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

const doctorKey = "AKIAIOSFODNN7EXAMPLE"

// doctorDir is a Postfix configuration directory (not a running Postfix)
// holding sesame's relay for us-east-1, healthy; edit changes it before
// the map is built.
func doctorDir(t *testing.T, edit func(dir string, settings map[string]string)) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("doctor tests check root ownership: run as root")
	}
	if _, err := exec.LookPath("/usr/sbin/postconf"); err != nil {
		t.Skip("postconf is not installed")
	}
	dir := t.TempDir()
	cfg := Config{Region: "us-east-1", Port: 587, Username: doctorKey, Password: "BPWexample", PostfixDir: dir,
		Distro: ParseOSRelease("ID=debian\n")}
	// No maillog_file: without a running postlogd each Postfix command
	// would wait for it.
	settings := map[string]string{"queue_directory": filepath.Join(dir, "queue"), "myhostname": "doctor-test.localdomain"}
	for _, s := range cfg.Settings() {
		settings[s.Name] = s.Value
	}
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		t.Skip("no /etc/postfix/master.cf to start from")
	}
	if err := os.WriteFile(filepath.Join(dir, "master.cf"), master, 0o644); err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(dir, SASLPasswdFile)
	if err := os.WriteFile(passwd, []byte("[smtp.other.example]:587 bob:pw\n"+Line(cfg.Credentials())), 0o600); err != nil {
		t.Fatal(err)
	}
	writeMain := func() {
		var b strings.Builder
		for k, v := range settings {
			if v != "-" {
				b.WriteString(k + " = " + v + "\n")
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeMain()
	if out, err := exec.Command("/usr/sbin/postmap", "-c", dir, "hash:"+passwd).CombinedOutput(); err != nil {
		t.Fatalf("postmap: %v: %s", err, out)
	}
	os.Chmod(passwd+".db", 0o600)
	// The .db is no older than its source, as postmap left it.
	if edit != nil {
		edit(dir, settings)
		writeMain()
	}
	return dir
}

// TestDoctorChecks runs each check on a configuration with one fault:
// the doctor names it with its severity, and the healthy configuration
// has none.
func TestDoctorChecks(t *testing.T) {
	set := func(kv ...string) func(string, map[string]string) {
		return func(_ string, m map[string]string) {
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
		}
	}
	cases := []struct {
		name    string
		edit    func(dir string, settings map[string]string)
		opts    DoctorOptions
		want    string
		wantSev Severity
		repair  string // the repaired relayhost, "" for no check
	}{
		{"sesame's own configuration is healthy", nil, DoctorOptions{}, "", SeverityOK, "[email-smtp.us-east-1.amazonaws.com]:587"},
		{"no relayhost is broken", set("relayhost", "-"), DoctorOptions{}, "relayhost", SeverityBroken, "[email-smtp.us-east-1.amazonaws.com]:587"},
		{"port 25 is broken", set("relayhost", "[email-smtp.us-east-1.amazonaws.com]:25"), DoctorOptions{}, "relayhost", SeverityBroken, ""},
		{"a relayhost without brackets is broken", set("relayhost", "email-smtp.us-east-1.amazonaws.com:587"), DoctorOptions{}, "relayhost", SeverityBroken, ""},
		{"port 587 with wrapper mode is broken", set("smtp_tls_wrappermode", "yes"), DoctorOptions{}, "wrappermode", SeverityBroken, ""},
		{"port 465 without wrapper mode is broken", set("relayhost", "[email-smtp.us-east-1.amazonaws.com]:465"), DoctorOptions{}, "wrappermode", SeverityBroken, ""},
		{"a password map keyed for another region is the 530 bounce", set("relayhost", "[email-smtp.eu-west-1.amazonaws.com]:587"), DoctorOptions{},
			"region-mismatch", SeverityBroken, "[email-smtp.us-east-1.amazonaws.com]:587"},
		{"a key whose saved setup is in another region is the 535", nil, DoctorOptions{SavedRegions: map[string]string{doctorKey: "eu-west-1"}},
			"region-saved", SeverityBroken, "[email-smtp.eu-west-1.amazonaws.com]:587"},
		{"SASL off is broken", set("smtp_sasl_auth_enable", "no"), DoctorOptions{}, "sasl-auth", SeverityBroken, ""},
		{"noplaintext is broken", set("smtp_sasl_security_options", "noplaintext, noanonymous"), DoctorOptions{}, "sasl-options", SeverityBroken, ""},
		{"no password map is broken", set("smtp_sasl_password_maps", "-"), DoctorOptions{}, "sasl-maps", SeverityBroken, ""},
		{"a missing .db is local data error", func(dir string, _ map[string]string) {
			os.Remove(filepath.Join(dir, SASLPasswdFile+".db"))
		}, DoctorOptions{}, "sasl-db-missing", SeverityBroken, ""},
		{"a .db older than its source is stale", func(dir string, _ map[string]string) {
			old := time.Now().Add(-time.Hour)
			os.Chtimes(filepath.Join(dir, SASLPasswdFile+".db"), old, old)
		}, DoctorOptions{}, "sasl-db-stale", SeverityBroken, ""},
		{"a sasl_passwd others can read is broken", func(dir string, _ map[string]string) {
			os.Chmod(filepath.Join(dir, SASLPasswdFile), 0o644)
		}, DoctorOptions{}, "sasl-perms", SeverityBroken, ""},
		{"a sasl_passwd not root's is broken", func(dir string, _ map[string]string) {
			os.Chown(filepath.Join(dir, SASLPasswdFile), 65534, -1)
		}, DoctorOptions{}, "sasl-perms", SeverityBroken, ""},
		{"a missing CA file is broken", set("smtp_tls_CAfile", "/etc/ssl/certs/ca-bundle.crt"), DoctorOptions{}, "ca-file", SeverityBroken, ""},
		{"TLS without verification is a warning", set("smtp_tls_security_level", "encrypt"), DoctorOptions{}, "tls-level", SeverityWarning, ""},
		{"TLS made optional is broken", set("smtp_tls_security_level", "may"), DoctorOptions{}, "tls-level", SeverityBroken, ""},
		{"smtp_use_tls is obsolete", set("smtp_use_tls", "yes"), DoctorOptions{}, "obsolete-smtp_use_tls", SeverityWarning, ""},
		{"smtp_enforce_tls is obsolete", set("smtp_enforce_tls", "yes"), DoctorOptions{}, "obsolete-smtp_enforce_tls", SeverityWarning, ""},
		{"a fallback relay in main.cf goes around SES", set("smtp_fallback_relay", "[backup.example]:25"), DoctorOptions{}, "fallback-relay", SeverityWarning, ""},
		{"a missing SASL plugin is broken", nil, DoctorOptions{SASLLibDirs: []string{"/nonexistent/sasl2"}}, "sasl-plugin", SeverityBroken, ""},
		{"a master.cf relayhost override is broken", func(dir string, _ map[string]string) {
			appendTo(t, filepath.Join(dir, "master.cf"), "bypass unix - - n - - smtp\n  -o relayhost=[other.example]:25\n")
		}, DoctorOptions{}, "master-override", SeverityBroken, ""},
		{"a master.cf fallback relay override is a warning", func(dir string, _ map[string]string) {
			appendTo(t, filepath.Join(dir, "master.cf"), "fb unix - - n - - smtp\n  -o smtp_fallback_relay=[other.example]:25\n")
		}, DoctorOptions{}, "master-override", SeverityWarning, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each Postfix command here waits about two seconds on this
			// kind of machine, doing nothing: the cases run side by side.
			t.Parallel()
			dir := doctorDir(t, c.edit)
			c.opts.Distro = ParseOSRelease("ID=debian\n")
			c.opts.LogFiles = []string{filepath.Join(dir, "no-maillog")}
			d, err := Install{Dir: dir, Sbin: "/usr/sbin"}.Doctor(context.Background(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			var found *Finding
			for i, f := range d.Findings {
				if f.Severity != SeverityOK && (c.want == "" || f.ID != c.want) {
					if c.want == "" {
						t.Errorf("healthy configuration: %s %s: %s", f.Severity, f.ID, f.Summary)
					}
					continue
				}
				if f.ID == c.want && f.Severity != SeverityOK {
					found = &d.Findings[i]
				}
			}
			if c.want != "" {
				if found == nil {
					t.Fatalf("no %s finding in %+v", c.want, d.Findings)
				}
				if found.Severity != c.wantSev || found.Summary == "" || found.Fix == "" {
					t.Errorf("%s: %+v, want severity %s with a summary and a fix", c.want, found, c.wantSev)
				}
			}
			if d.Worst() != c.wantSev {
				t.Errorf("worst = %s, want %s", d.Worst(), c.wantSev)
			}
			if c.repair != "" && (d.Repair == nil || d.Repair.RelayHost() != c.repair) {
				t.Errorf("repair %+v, want relayhost %s", d.Repair, c.repair)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(text)
}

// TestDoctorDeliveries groups queue and log failures by reason, each with
// its cause, and asks to rewrite local senders SES refused.
func TestDoctorDeliveries(t *testing.T) {
	cases := []struct {
		reason, want string
	}{
		{"host email-smtp.us-east-1.amazonaws.com[1.2.3.4] said: 530 Authentication required (in reply to MAIL FROM command)", "530"},
		{"SASL authentication failed; server email-smtp.us-east-1.amazonaws.com[1.2.3.4] said: 535 Authentication Credentials Invalid", "535"},
		{"host x said: 554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: root@h.localdomain", "554-not-verified"},
		{"host x said: 554 Message rejected: User `arn:aws:iam::1:user/u' is not authorized to perform `ses:SendRawEmail'", "554-not-authorized"},
		{"host x said: 454 Throttling failure: Maximum sending rate exceeded.", "454"},
		{"delivery temporarily suspended: local data error while talking to email-smtp.us-east-1.amazonaws.com", "local-data-error"},
		{"SASL authentication failed; cannot authenticate to server email-smtp.us-east-1.amazonaws.com[1.2.3.4]: no mechanism available", "no-mechanism"},
		{"TLS is required, but our TLS engine is unavailable", "tls"},
		{"Server certificate not verified", "tls"},
		{"conversation with x timed out while receiving the initial server greeting", "tls"},
	}
	for _, c := range cases {
		t.Run(c.want+": "+c.reason[:20], func(t *testing.T) {
			got, ok := classify(c.reason)
			if !ok || got.id != c.want || got.cause == "" || got.fix == "" {
				t.Errorf("classify = %+v, %v; want %s with a cause and a fix", got, ok, c.want)
			}
		})
	}

	queue := `{"queue_name": "deferred", "queue_id": "A1", "sender": "root@host.localdomain", "recipients": [{"address": "a@b.example", "delay_reason": "host x said: 554 Message rejected: Email address is not verified."}]}
{"queue_name": "deferred", "queue_id": "A2", "sender": "root@host.localdomain", "recipients": [{"address": "c@b.example", "delay_reason": "host x said: 554 Message rejected: Email address is not verified."}]}
{"queue_name": "active", "queue_id": "A3", "sender": "x@example.com", "recipients": [{"address": "d@b.example"}]}
`
	var fs []Finding
	addDeliveryFindings("queue", parseQueue(queue), func(string) Severity { return SeverityBroken }, func(f Finding) { fs = append(fs, f) })
	gotIDs := []string{}
	for _, f := range fs {
		gotIDs = append(gotIDs, f.ID)
	}
	if !slices.Equal(gotIDs, []string{"queue-554-not-verified", "local-senders"}) || !strings.HasPrefix(fs[0].Summary, "2 message(s) deferred") ||
		!strings.Contains(fs[1].Summary, "root@host.localdomain") {
		t.Errorf("findings %+v", fs)
	}

	// The log: only what came after the last reload counts.
	dir := t.TempDir()
	log := filepath.Join(dir, "maillog")
	os.WriteFile(log, []byte(strings.Join([]string{
		"Nov 30 10:00:00 h postfix/qmgr[1]: B1: from=<root@h.localdomain>, size=1, nrcpt=1 (queue active)",
		"Nov 30 10:00:01 h postfix/smtp[2]: B1: to=<a@b.example>, relay=x[1.2.3.4]:587, delay=1, dsn=5.7.0, status=bounced (host x said: 530 Authentication required)",
		"Nov 30 10:00:02 h postfix/master[3]: reload -- version 3.7.11, configuration /etc/postfix",
		"Nov 30 10:00:03 h postfix/qmgr[1]: B2: from=<me@example.com>, size=1, nrcpt=1 (queue active)",
		"Nov 30 10:00:04 h postfix/smtp[2]: B2: to=<a@b.example>, relay=x[1.2.3.4]:587, delay=1, dsn=4.7.0, status=deferred (SASL authentication failed; server x said: 535 Authentication Credentials Invalid)",
		"",
	}, "\n")), 0o644)
	fs = nil
	checkLog(t.TempDir(), nil, DoctorOptions{LogFiles: []string{log}}, func(f Finding) { fs = append(fs, f) })
	if len(fs) != 1 || fs[0].ID != "log-535" {
		t.Errorf("log findings %+v, want only the 535 after the reload", fs)
	}
}

// TestParseRelayHost splits relayhost values as Postfix reads them.
func TestParseRelayHost(t *testing.T) {
	for _, c := range []struct {
		in        string
		host      string
		port      int
		bracketed bool
		err       bool
	}{
		{"[email-smtp.us-east-1.amazonaws.com]:587", ses.SMTPHost("us-east-1"), 587, true, false},
		{"[Email-SMTP.us-east-1.amazonaws.com]", ses.SMTPHost("us-east-1"), 25, true, false},
		{"smtp.example.com:2525", "smtp.example.com", 2525, false, false},
		{"", "", 0, false, true},
		{"[x:587", "", 0, false, true},
		{"[x]:port", "", 0, false, true},
	} {
		host, port, br, err := ParseRelayHost(c.in)
		if host != c.host || port != c.port || br != c.bracketed || (err != nil) != c.err {
			t.Errorf("ParseRelayHost(%q) = %q %d %v %v", c.in, host, port, br, err)
		}
	}
}

// TestRewriteSender: the rewrite address is checked, and when set the
// settings, the map and the script carry it.
func TestRewriteSender(t *testing.T) {
	for addr, ok := range map[string]bool{
		"": true, "postmaster@example.com": true, "root": false, "a@localhost": false, "a b@example.com": false,
		"a@example.com, b@example.com": false, "a@b@example.com": false, "a@example.com\n@x y": false, "$x@example.com": false,
	} {
		if err := ValidateRewriteSender(addr); (err == nil) != ok {
			t.Errorf("ValidateRewriteSender(%q) = %v", addr, err)
		}
	}
	c := Config{Region: "us-east-1", Port: 587, Username: doctorKey, Password: "BPW", RewriteSender: "postmaster@example.com"}
	if !slices.Contains(c.Settings(), Setting{"smtp_generic_maps", "hash:/etc/postfix/generic"}) {
		t.Errorf("settings lack smtp_generic_maps: %v", c.Settings())
	}
	m := c.GenericMap([]string{"Host.LocalDomain", "localhost", "host.localdomain", "bad host"})
	if !strings.HasPrefix(m, sesameMark) || !strings.Contains(m, "\n@host.localdomain postmaster@example.com\n@localhost postmaster@example.com\n") ||
		strings.Count(m, "@host.localdomain") != 1 || strings.Contains(m, "bad") {
		t.Errorf("generic map:\n%s", m)
	}
	if s := c.ApplyScript(); !strings.Contains(s, "rewrite='postmaster@example.com'") || !strings.Contains(s, `postmap "$@" "hash:$generic"`) {
		t.Errorf("the script does not write the rewrite map:\n%s", s)
	}
	c.RewriteSender = ""
	if slices.ContainsFunc(c.Settings(), func(s Setting) bool { return s.Name == "smtp_generic_maps" }) || strings.Contains(c.ApplyScript(), "generic") {
		t.Error("without a rewrite address the relay still rewrites")
	}
}

// TestLive: each live check's verdict from what AWS and SES answer.
func TestLive(t *testing.T) {
	creds := &mta.Credentials{Host: ses.SMTPHost("eu-west-1"), Port: 587, Username: doctorKey, Password: "BPW"}
	d := Diagnosis{RelayHost: "[email-smtp.eu-west-1.amazonaws.com]:587", Installed: creds}
	api := func(keys []AccessKey, verified, prod bool, login error) LiveAPI {
		return LiveAPI{
			AccessKeys: func(context.Context, string) ([]AccessKey, error) { return keys, nil },
			Verified: func(_ context.Context, region, _ string) (bool, error) {
				if region != "eu-west-1" {
					t.Errorf("identity checked in %s, not the relay host's region", region)
				}
				return verified, nil
			},
			Production: func(context.Context, string) (bool, error) { return prod, nil },
			Login:      func(context.Context, mta.Credentials) error { return login },
		}
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	active := []AccessKey{{ID: doctorKey, Status: "Active", Created: now.Add(-10 * 24 * time.Hour)}}
	old := []AccessKey{{ID: doctorKey, Status: "Active", Created: now.Add(-200 * 24 * time.Hour)}}
	cases := []struct {
		name string
		api  LiveAPI
		want map[string]Severity
	}{
		{"all good", api(active, true, true, nil), map[string]Severity{"live-key": SeverityOK, "live-key-age": "", "live-identity": SeverityOK, "live-sandbox": SeverityOK, "live-login": SeverityOK}},
		{"a deleted key", api(nil, true, true, errors.New("535")), map[string]Severity{"live-key": SeverityBroken, "live-login": SeverityBroken}},
		{"an inactive key", api([]AccessKey{{ID: doctorKey, Status: "Inactive"}}, true, true, nil), map[string]Severity{"live-key": SeverityBroken}},
		{"the domain not verified there", api(active, false, true, nil), map[string]Severity{"live-identity": SeverityBroken}},
		{"the sandbox", api(active, true, false, nil), map[string]Severity{"live-sandbox": SeverityWarning}},
		{"a key past its age", api(old, true, true, nil), map[string]Severity{"live-key": SeverityOK, "live-key-age": SeverityWarning}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]Severity{}
			// The wizard's rule (steps.KeyAge) is wired in by the command;
			// this one warns past 90 days as it does.
			keyAge := func(id string, created time.Time) (string, string) {
				if age := now.Sub(created); age > 90*24*time.Hour {
					return "old", fmt.Sprintf("access key %s is %d days old", id, int(age.Hours()/24))
				}
				return "young", ""
			}
			for _, f := range Live(context.Background(), d, c.api, LiveOptions{Domain: "example.com", User: "ses-smtp-example-com", KeyAge: keyAge}) {
				got[f.ID] = f.Severity
				if f.Severity != SeverityOK && f.Fix == "" {
					t.Errorf("%s has no fix", f.ID)
				}
			}
			for id, sev := range c.want {
				if got[id] != sev {
					t.Errorf("%s = %q, want %s (all: %v)", id, got[id], sev, got)
				}
			}
		})
	}
	if fs := Live(context.Background(), Diagnosis{RelayHost: d.RelayHost}, api(active, true, true, nil), LiveOptions{}); len(fs) != 1 || fs[0].Severity != SeverityWarning {
		t.Errorf("without installed credentials: %+v", fs)
	}
}

// TestDoctorFixRepairs: for each fault doctor --fix can repair, applying
// the diagnosis's repair (doctor --fix's code) leaves a configuration the
// next doctor finds healthy, with the operator's other sasl_passwd entry
// kept; a missing SASL plugin is refused with the package to install.
func TestDoctorFixRepairs(t *testing.T) {
	set := func(kv ...string) func(string, map[string]string) {
		return func(_ string, m map[string]string) {
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
		}
	}
	cases := []struct {
		name string
		edit func(string, map[string]string)
	}{
		{"a relayhost for another region than the password", set("relayhost", "[email-smtp.eu-west-1.amazonaws.com]:587")},
		{"a missing .db", func(dir string, _ map[string]string) { os.Remove(filepath.Join(dir, SASLPasswdFile+".db")) }},
		{"a stale .db", func(dir string, _ map[string]string) {
			old := time.Now().Add(-time.Hour)
			os.Chtimes(filepath.Join(dir, SASLPasswdFile+".db"), old, old)
		}},
		{"a sasl_passwd others can read", func(dir string, _ map[string]string) { os.Chmod(filepath.Join(dir, SASLPasswdFile), 0o644) }},
		{"a sasl_passwd.db not root's", func(dir string, _ map[string]string) { os.Chown(filepath.Join(dir, SASLPasswdFile+".db"), 65534, -1) }},
		{"wrapper mode on port 587", set("smtp_tls_wrappermode", "yes")},
		{"no wrapper mode on port 465", set("relayhost", "[email-smtp.us-east-1.amazonaws.com]:465")},
		{"RHEL's CA path", set("smtp_tls_CAfile", "/etc/ssl/certs/ca-bundle.crt")},
		{"the obsolete parameters", set("smtp_use_tls", "yes", "smtp_enforce_tls", "yes", "smtp_tls_security_level", "encrypt")},
		{"noplaintext and SASL off", set("smtp_sasl_security_options", "noplaintext", "smtp_sasl_auth_enable", "no")},
		{"master.cf overrides", func(dir string, _ map[string]string) {
			appendTo(t, filepath.Join(dir, "master.cf"), "bypass unix - - n - - smtp\n  -o relayhost=[other.example]:25\n  -o smtp_fallback_relay=[x.example]:25\n")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := doctorDir(t, c.edit)
			os.Mkdir(filepath.Join(dir, "queue"), 0o755)
			passwd := filepath.Join(dir, SASLPasswdFile)
			inst := Install{Dir: dir, Sbin: "/usr/sbin"}
			opts := DoctorOptions{Distro: ParseOSRelease("ID=debian\n"), LogFiles: []string{filepath.Join(dir, "no-maillog")}}
			d, err := inst.Doctor(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.Worst() == SeverityOK || d.Repair == nil {
				t.Fatalf("the fault was not found (worst %s, repair %v)", d.Worst(), d.Repair)
			}
			if _, err := inst.Apply(context.Background(), *d.Repair); err != nil {
				t.Fatal(err)
			}
			after, err := inst.Doctor(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range after.Findings {
				if f.Severity != SeverityOK {
					t.Errorf("after the fix: %s %s: %s", f.Severity, f.ID, f.Summary)
				}
			}
			if data, _ := os.ReadFile(passwd); !strings.Contains(string(data), "[smtp.other.example]:587 bob:pw\n") {
				t.Errorf("the other relay's entry is gone:\n%s", data)
			}
		})
	}
	t.Run("a missing SASL plugin is named with its package", func(t *testing.T) {
		dir := doctorDir(t, nil)
		inst := Install{Dir: dir, Sbin: "/usr/sbin", SASLLibDirs: []string{"/nonexistent/sasl2"}}
		cfg := Config{Region: "us-east-1", Port: 587, Username: doctorKey, Password: "BPWexample", PostfixDir: dir}
		if _, err := inst.Apply(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "libsasl2-modules") {
			t.Errorf("Apply without the plugin = %v, want the package named", err)
		}
	})
}
