package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// doctorConf is a Postfix configuration directory (Postfix not running)
// set up as issue 13's write-up: relay host in us-east-1, the password for
// us-west-2 beside another relay's entry, RHEL's CA path, smtp_use_tls.
func doctorConf(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("doctor needs root-owned Postfix files: run as root")
	}
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if _, perr := exec.LookPath("/usr/sbin/postconf"); err != nil || perr != nil {
		t.Skip("Postfix is not installed here")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	writeFile(t, filepath.Join(dir, "master.cf"), string(master))
	os.Mkdir(filepath.Join(dir, "queue"), 0o755)
	writeFile(t, filepath.Join(dir, "main.cf"), strings.Join([]string{
		"compatibility_level = 3.6",
		"myhostname = doctor-test.localdomain",
		"queue_directory = " + filepath.Join(dir, "queue"),
		"relayhost = [email-smtp.us-east-1.amazonaws.com]:587",
		"smtp_sasl_auth_enable = yes",
		"smtp_sasl_security_options = noanonymous",
		"smtp_sasl_password_maps = hash:" + filepath.Join(dir, "sasl_passwd"),
		"smtp_use_tls = yes",
		"smtp_tls_security_level = encrypt",
		"smtp_tls_note_starttls_offer = yes",
		"smtp_tls_CAfile = /etc/ssl/certs/ca-bundle.crt",
		"",
	}, "\n"))
	if err := os.WriteFile(filepath.Join(dir, "sasl_passwd"), []byte("[smtp.other-relay.example]:587 bob:bobs-password\n"+
		"[email-smtp.us-west-2.amazonaws.com]:587 AKIAIOSFODNN7EXAMPLE:BPWexampleexampleexampleexampleexampleexam\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/sbin/postmap", "-c", dir, "hash:"+filepath.Join(dir, "sasl_passwd")).CombinedOutput(); err != nil {
		t.Fatalf("postmap: %v: %s", err, out)
	}
	return dir
}

func runDoctorBin(t *testing.T, args ...string) result {
	t.Helper()
	bin, _ := binaries(t)
	cmd := exec.Command(bin, append([]string{"doctor"}, args...)...)
	home := t.TempDir()
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=dumb", "XDG_STATE_HOME=" + filepath.Join(home, "state")}
	return runProcess(t, cmd)
}

type doctorJSON struct {
	Status   string `json:"status"`
	Findings []struct {
		ID, Severity, Summary, Fix string
	} `json:"findings"`
}

func (d doctorJSON) ids(sev string) []string {
	var out []string
	for _, f := range d.Findings {
		if f.Severity == sev {
			out = append(out, f.ID)
		}
	}
	return out
}

var doctorCases = []safetyCase{
	{"doctor names each fault of the write-up and exits 1", func(t *testing.T) {
		dir := doctorConf(t)
		r := runDoctorBin(t, "--postfix-dir", dir, "--json")
		var d doctorJSON
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || r.code != 1 || d.Status != "broken" {
			t.Fatalf("doctor --json = %d, %v:\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
		for _, id := range []string{"region-mismatch", "ca-file"} {
			if !slices.Contains(d.ids("broken"), id) {
				t.Errorf("broken %v lacks %s", d.ids("broken"), id)
			}
		}
		for _, id := range []string{"obsolete-smtp_use_tls", "tls-level"} {
			if !slices.Contains(d.ids("warning"), id) {
				t.Errorf("warnings %v lack %s", d.ids("warning"), id)
			}
		}
		text := runDoctorBin(t, "--postfix-dir", dir)
		if text.code != 1 || !strings.Contains(text.stdout, "530 Authentication required") || !strings.Contains(text.stdout, "fix: ") {
			t.Errorf("doctor = %d:\n%s", text.code, text.stdout)
		}
	}},
	{"doctor --fix without --yes shows the plan and changes nothing", func(t *testing.T) {
		dir := doctorConf(t)
		before := readFile(t, filepath.Join(dir, "main.cf"))
		r := runDoctorBin(t, "--postfix-dir", dir, "--fix", "--no-input")
		if r.code != 2 || !strings.Contains(r.stdout, `relayhost: "[email-smtp.us-east-1.amazonaws.com]:587" → "[email-smtp.us-west-2.amazonaws.com]:587"`) ||
			!strings.Contains(r.stdout, "remove smtp_use_tls = yes") || !strings.Contains(r.stdout, "why: ") {
			t.Fatalf("doctor --fix --no-input = %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if after := readFile(t, filepath.Join(dir, "main.cf")); after != before {
			t.Errorf("main.cf changed without approval:\n%s", after)
		}
	}},
	{"doctor --fix --yes repairs keeping the other relay entry and a backup and the next doctor is healthy", func(t *testing.T) {
		dir := doctorConf(t)
		before := readFile(t, filepath.Join(dir, "main.cf"))
		passwd := readFile(t, filepath.Join(dir, "sasl_passwd"))
		r := runDoctorBin(t, "--postfix-dir", dir, "--fix", "--yes")
		if r.code != 0 || !strings.Contains(r.stdout, "The relay is healthy.") {
			t.Fatalf("doctor --fix --yes = %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		backups, _ := filepath.Glob(filepath.Join(dir, "main.cf.sesame-*"))
		if len(backups) != 1 || readFile(t, backups[0]) != before {
			t.Errorf("backups %q, want one holding the old main.cf", backups)
		}
		if got := readFile(t, filepath.Join(dir, "sasl_passwd")); got != passwd {
			t.Errorf("sasl_passwd changed:\n%s", got)
		}
		if again := runDoctorBin(t, "--postfix-dir", dir); again.code != 0 {
			t.Errorf("the next doctor = %d:\n%s", again.code, again.stdout)
		}
	}},
	{"a configuration with warnings only exits 3", func(t *testing.T) {
		dir := doctorConf(t)
		runDoctorBin(t, "--postfix-dir", dir, "--fix", "--yes")
		if out, err := exec.Command("/usr/sbin/postconf", "-c", dir, "-e", "smtp_tls_security_level = encrypt").CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if r := runDoctorBin(t, "--postfix-dir", dir); r.code != 3 || !strings.Contains(r.stdout, "WARNING") {
			t.Errorf("doctor = %d, want 3:\n%s", r.code, r.stdout)
		}
	}},
}

// TestDoctor runs `sesame doctor` on a Postfix configuration directory.
func TestDoctor(t *testing.T) {
	for _, c := range doctorCases {
		t.Run(c.name, c.run)
	}
}

// TestPostfixOutRefusesPostfixDir: `sesame postfix --out` into a directory
// holding main.cf (Postfix's own) writes nothing there and leaves its mode.
func TestPostfixOutRefusesPostfixDir(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	writeFile(t, filepath.Join(dir, "main.cf"), "relayhost =\n")
	if err := os.WriteFile(filepath.Join(dir, "sasl_passwd"), []byte("[email-smtp.eu-west-1.amazonaws.com]:587 AKIAIOSFODNN7EXAMPLE:BPWexampleexampleexampleexampleexampleexam\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, _ := binaries(t)
	cmd := exec.Command(bin, "postfix", "--out", dir)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	r := runProcess(t, cmd)
	if r.code == 0 || !strings.Contains(r.stderr, "holds main.cf") {
		t.Fatalf("sesame postfix --out <Postfix dir> = %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, name := range []string{"main.cf.snippet", "apply-postfix.sh"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s was written into Postfix's directory: %v", name, err)
		}
	}
	assertMode(t, dir, 0o755)
}

// TestStatusShowsRelayHealth: status given --postfix-dir checks the relay
// installed there offline and a broken one is exit 1 with the findings.
func TestStatusShowsRelayHealth(t *testing.T) {
	dir := doctorConf(t)
	sim := startSim(t)
	r := sim.sesame(t, t.TempDir(), "status", "--domain", "example.com", "--region", "us-east-1", "--postfix-dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "Postfix relay in "+dir) || !strings.Contains(r.stdout+r.stderr, "530") {
		t.Fatalf("status = %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestDoctorLive: after the wizard set up example.com and its relay was
// installed by hand, doctor finds the saved setup that made the key and
// checks with AWS on its own: the key exists, the domain is verified in
// the relay host's region, the SMTP login works. Once the key is deleted,
// doctor says so and exits 1.
func TestDoctorLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("doctor needs root-owned Postfix files: run as root")
	}
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if _, perr := exec.LookPath("/usr/sbin/postconf"); err != nil || perr != nil {
		t.Skip("Postfix is not installed here")
	}
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	if r := sim.sesame(t, home, "--no-input", "--yes", "--domain", "example.com", "--region", "us-east-1", "--out", out); r.code != 0 {
		t.Fatalf("wizard exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	conf := t.TempDir()
	os.Mkdir(filepath.Join(conf, "queue"), 0o755)
	writeFile(t, filepath.Join(conf, "master.cf"), string(master))
	mainCF := "myhostname = doctor-test.localdomain\nqueue_directory = " + filepath.Join(conf, "queue") + "\n"
	for _, line := range strings.Split(readFile(t, filepath.Join(out, "main.cf.snippet")), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			mainCF += strings.Replace(line, "/etc/postfix", conf, 1) + "\n"
		}
	}
	writeFile(t, filepath.Join(conf, "main.cf"), mainCF)
	passwd := readFile(t, filepath.Join(out, "sasl_passwd"))
	if err := os.WriteFile(filepath.Join(conf, "sasl_passwd"), []byte(passwd), 0o600); err != nil {
		t.Fatal(err)
	}
	if o, err := exec.Command("/usr/sbin/postmap", "-c", conf, "hash:"+filepath.Join(conf, "sasl_passwd")).CombinedOutput(); err != nil {
		t.Fatalf("postmap: %v: %s", err, o)
	}
	doctor := func() (doctorJSON, result) {
		r := sim.sesame(t, home, "doctor", "--postfix-dir", conf, "--json", "--smtp-endpoint", sim.smtp, "--smtp-ca", sim.cert)
		var d doctorJSON
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("doctor = %d, %v:\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
		return d, r
	}
	d, r := doctor()
	for _, id := range []string{"live-key", "live-identity", "live-login"} {
		if !slices.Contains(d.ids("ok"), id) {
			t.Errorf("ok findings %v lack %s:\n%s", d.ids("ok"), id, r.stdout)
		}
	}
	if r.code == 1 {
		t.Errorf("doctor = 1 on a working relay:\n%s", r.stdout)
	}

	keyID, _, _ := strings.Cut(strings.Fields(lastLine(passwd))[1], ":")
	if _, err := iam.NewFromConfig(sim.awsConfig("us-east-1")).DeleteAccessKey(context.Background(),
		&iam.DeleteAccessKeyInput{UserName: aws.String("ses-smtp-example-com"), AccessKeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	d, r = doctor()
	if r.code != 1 || !slices.Contains(d.ids("broken"), "live-key") || !slices.Contains(d.ids("broken"), "live-login") {
		t.Errorf("after the key's deletion doctor = %d, broken %v:\n%s", r.code, d.ids("broken"), r.stdout)
	}
}

// TestDoctorFixBrokenBefore: doctor --fix on a configuration postfix check
// already refuses says so, with Postfix's reason, and leaves main.cf
// byte-identical with no backup made.
func TestDoctorFixBrokenBefore(t *testing.T) {
	dir := doctorConf(t)
	os.Remove(filepath.Join(dir, "queue")) // postfix check: chdir fails
	before := readFile(t, filepath.Join(dir, "main.cf"))
	r := runDoctorBin(t, "--postfix-dir", dir, "--fix", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "already broken, before sesame changed anything") || !strings.Contains(r.stderr, filepath.Join(dir, "queue")) {
		t.Fatalf("doctor --fix = %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if after := readFile(t, filepath.Join(dir, "main.cf")); after != before {
		t.Errorf("main.cf changed:\n%s", after)
	}
	if backups, _ := filepath.Glob(filepath.Join(dir, "*.sesame-*")); len(backups) != 0 {
		t.Errorf("backups %q of a fix that changed nothing", backups)
	}
}
