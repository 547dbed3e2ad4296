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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sesame-tool/sesame/steps/ses"
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
	t.Parallel()
	for _, c := range doctorCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has its own Postfix directory
			c.run(t)
		})
	}
}

// TestPostfixOutRefusesPostfixDir: `sesame postfix --out` into a directory
// holding main.cf (Postfix's own) writes nothing there and leaves its mode.
func TestPostfixOutRefusesPostfixDir(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	dir := doctorConf(t)
	sim := startSim(t)
	r := sim.sesame(t, t.TempDir(), "status", "--domain", "example.com", "--region", "us-east-1", "--postfix-dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "Postfix relay in "+dir) || !strings.Contains(r.stdout+r.stderr, "530") {
		t.Fatalf("status = %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// liveRelay is a relay set up by the wizard for example.com in us-east-1
// against sesame-sim and installed by hand in a Postfix configuration
// directory (Postfix not running); doctor runs doctor --json there, with
// the SMTP login pointed at the sim.
type liveRelay struct {
	sim        *simProc
	home, conf string
	passwd     string // the sasl_passwd the wizard wrote
}

func newLiveRelay(t *testing.T, simArgs ...string) *liveRelay {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("doctor needs root-owned Postfix files: run as root")
	}
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if _, perr := exec.LookPath("/usr/sbin/postconf"); err != nil || perr != nil {
		t.Skip("Postfix is not installed here")
	}
	sim := startSim(t, simArgs...)
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
	return &liveRelay{sim: sim, home: home, conf: conf, passwd: passwd}
}

func (l *liveRelay) doctor(t *testing.T) (doctorJSON, result) {
	t.Helper()
	r := l.sim.sesame(t, l.home, "doctor", "--postfix-dir", l.conf, "--json", "--smtp-endpoint", l.sim.smtp, "--smtp-ca", l.sim.cert)
	var d doctorJSON
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("doctor = %d, %v:\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	return d, r
}

// finding is the finding with id, or a zero one.
func (d doctorJSON) finding(id string) (f struct{ ID, Severity, Summary, Fix string }) {
	for _, x := range d.Findings {
		if x.ID == id {
			return x
		}
	}
	return f
}

// TestDoctorLive: after the wizard set up example.com and its relay was
// installed by hand, doctor finds the saved setup that made the key and
// checks with AWS on its own: the key exists, the domain is verified in
// the relay host's region, the user's policy allows sending as it there,
// the SMTP login works. Once the key is deleted, doctor says so and exits
// 1.
func TestDoctorLive(t *testing.T) {
	t.Parallel()
	l := newLiveRelay(t)
	d, r := l.doctor(t)
	for _, id := range []string{"live-key", "live-identity", "live-policy", "live-login"} {
		if !slices.Contains(d.ids("ok"), id) {
			t.Errorf("ok findings %v lack %s:\n%s", d.ids("ok"), id, r.stdout)
		}
	}
	if r.code == 1 {
		t.Errorf("doctor = 1 on a working relay:\n%s", r.stdout)
	}
	// The key's age, as status shows it (steps.KeyAge): made today.
	today := "created " + time.Now().UTC().Format("2006-01-02")
	if i := slices.IndexFunc(d.Findings, func(f struct{ ID, Severity, Summary, Fix string }) bool { return f.ID == "live-key" }); i < 0 || !strings.Contains(d.Findings[i].Summary, today) {
		t.Errorf("the live-key finding does not give the key's age (%q):\n%s", today, r.stdout)
	}
	if slices.Contains(d.ids("warning"), "live-key-age") {
		t.Errorf("a key made today is called old:\n%s", r.stdout)
	}

	keyID, _, _ := strings.Cut(strings.Fields(lastLine(l.passwd))[1], ":")
	if _, err := iam.NewFromConfig(l.sim.awsConfig("us-east-1")).DeleteAccessKey(context.Background(),
		&iam.DeleteAccessKeyInput{UserName: aws.String("ses-smtp-example-com"), AccessKeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	d, r = l.doctor(t)
	if r.code != 1 || !slices.Contains(d.ids("broken"), "live-key") || !slices.Contains(d.ids("broken"), "live-login") {
		t.Errorf("after the key's deletion doctor = %d, broken %v:\n%s", r.code, d.ids("broken"), r.stdout)
	}
}

// TestDoctorLivePolicy: the SMTP user's policy is checked the way IAM
// means it to be, by its policy simulator. A user whose send policy
// allows only another region (the relay host is in us-east-1), or that
// has none, is broken with SES's 554 and the fix; the exact aws command
// the fix names, run as is, makes the relay healthy again; the AWS CLI
// reads the sim's simulation.
func TestDoctorLivePolicy(t *testing.T) {
	t.Parallel()
	l := newLiveRelay(t)
	ctx := context.Background()
	c := iam.NewFromConfig(l.sim.awsConfig("us-east-1"))
	user := aws.String("ses-smtp-example-com")
	dropPolicies := func() {
		t.Helper()
		names, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: user})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names.PolicyNames {
			if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(n)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	broken := func(why string) (fix string) {
		t.Helper()
		d, r := l.doctor(t)
		f := d.finding("live-policy")
		if r.code != 1 || f.Severity != "broken" || !strings.Contains(f.Summary, "554 Access denied") ||
			!strings.Contains(f.Summary, "in us-east-1") || !strings.Contains(f.Fix, "sesame --domain example.com --region us-east-1") {
			t.Fatalf("%s: doctor = %d, live-policy %+v:\n%s", why, r.code, f, r.stderr)
		}
		return f.Fix
	}

	dropPolicies()
	otherRegion := ses.SMTPUserPolicyIn("aws", "eu-west-1", "123456789012", "example.com")
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: user, PolicyName: aws.String(ses.SMTPUserPolicyName("eu-west-1")), PolicyDocument: aws.String(otherRegion)}); err != nil {
		t.Fatal(err)
	}
	broken("a policy for eu-west-1 only")
	dropPolicies()
	fix := broken("no policy")

	cli, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed: the fix's command is not run")
	}
	run := cliRunner(t, cli, l.sim.url, l.home)
	simulate := func() string {
		t.Helper()
		out, ok := run("iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::123456789012:user/ses-smtp-example-com",
			"--action-names", "ses:SendRawEmail", "--resource-arns", "arn:aws:ses:us-east-1:123456789012:identity/example.com",
			"--context-entries", "ContextKeyName=ses:FromAddress,ContextKeyValues=postmaster@example.com,ContextKeyType=string",
			"--query", "EvaluationResults[0].ResourceSpecificResults[0].EvalResourceDecision")
		if !ok {
			t.Fatalf("aws iam simulate-principal-policy:\n%s", out)
		}
		return strings.Trim(strings.TrimSpace(out), `"`)
	}
	if got := simulate(); got != "implicitDeny" {
		t.Errorf("the CLI reads %q without a policy, want implicitDeny", got)
	}
	// The fix's command, as doctor printed it, through a shell.
	_, cmdline, ok := strings.Cut(fix, "or aws iam put-user-policy")
	if !ok {
		t.Fatalf("the fix names no aws command: %s", fix)
	}
	sh := exec.Command("sh", "-c", cli+" --endpoint-url "+l.sim.url+" iam put-user-policy"+cmdline)
	sh.Env = []string{"HOME=" + l.home, "PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=AKIAOPERATOR00000000",
		"AWS_SECRET_ACCESS_KEY=operator-secret-key-0000000000000000000000", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(l.home, "nonexistent"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(l.home, "nonexistent")}
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the fix's command failed: %v\n%s", err, out)
	}
	if got := simulate(); got != "allowed" {
		t.Errorf("the CLI reads %q after the fix, want allowed", got)
	}
	if d, r := l.doctor(t); d.finding("live-policy").Severity != "ok" || r.code == 1 {
		t.Errorf("after the fix's command doctor = %d, live-policy %+v", r.code, d.finding("live-policy"))
	}
}

// TestDoctorLivePolicyDenied: an operator who may not call
// iam:SimulatePrincipalPolicy gets a warning naming the permission, and
// a relay otherwise healthy exits 3, not 1.
func TestDoctorLivePolicyDenied(t *testing.T) {
	t.Parallel()
	l := newLiveRelay(t, "--deny", "iam:SimulatePrincipalPolicy")
	d, r := l.doctor(t)
	f := d.finding("live-policy")
	if r.code != 3 || f.Severity != "warning" || !strings.Contains(f.Summary, "may not call iam:SimulatePrincipalPolicy") || !strings.Contains(f.Fix, "sesame policy") {
		t.Errorf("doctor = %d, live-policy %+v:\n%s", r.code, f, r.stdout)
	}
}

// TestDoctorFixBrokenBefore: doctor --fix on a configuration postfix check
// already refuses says so, with Postfix's reason, and leaves main.cf
// byte-identical with no backup made.
func TestDoctorFixBrokenBefore(t *testing.T) {
	t.Parallel()
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
