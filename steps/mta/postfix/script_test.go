package postfix

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

// stubbedCall is one run of a stubbed system command: its name and argv.
type stubbedCall struct {
	name string
	args []string
}

// stubCommands puts fake postconf, postmap, postfix, chown, id and apt-get
// first on PATH. Each records its argv (NUL-separated, so an argument with
// a space or a newline stays one) in its own file under the log directory;
// id says root, postfix says "not running" to status, postmap makes the
// .db file. Everything else (sh, awk, cp, mv, sed, mktemp) is the real one,
// working on the test's directories.
func stubCommands(t *testing.T) (pathEnv string, calls func() []stubbedCall) {
	t.Helper()
	dir := t.TempDir()
	bin, logDir := filepath.Join(dir, "bin"), filepath.Join(dir, "log")
	for _, d := range []string{bin, logDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	record := `f=$(mktemp "$STUB_LOG/call-XXXXXXXX")
for a in "$(basename "$0")" "$@"; do printf '%s\0' "$a"; done > "$f"
`
	stubs := map[string]string{
		"id":       `[ "${1-}" = -u ] && echo 0`,
		"chown":    `:`,
		"postconf": `:`,
		"postmap": `for last; do :; done
: > "${last#hash:}.db"`,
		"postfix": `for last; do :; done
[ "$last" != status ]`,
		"apt-get": `:`,
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+record+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	calls = func() []stubbedCall {
		var out []stubbedCall
		files, _ := filepath.Glob(filepath.Join(logDir, "call-*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			argv := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
			out = append(out, stubbedCall{name: argv[0], args: argv[1:]})
		}
		return out
	}
	return "STUB_LOG=" + logDir + "\x00PATH=" + bin + ":" + os.Getenv("PATH"), calls
}

// hostileName is a directory name made of what a shell would run or split
// if it reached the script unquoted: spaces, both quotes, $(…), backticks,
// a semicolon, a pipe, and a newline (the reported injection). Each
// injected command would create a PWNED file.
const hostileName = "pf dir 'q' \"dq\" $(touch PWNED1) `touch PWNED2`; touch PWNED3 | touch PWNED4 \ntouch PWNED5\n#"

// TestApplyScriptHostileValues runs the generated apply-postfix.sh with a
// Postfix directory and an output directory named hostileName, under
// stubbed system commands: every value arrives as one argv element, no
// injected command runs, and the script still does its job (the password
// map merged with the operator's other entries, master.cf's override
// commented out). The directory names are ones ValidatePostfixDir refuses:
// the quoting must hold even for them.
func TestApplyScriptHostileValues(t *testing.T) {
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk")
	}
	root := t.TempDir()
	conf := filepath.Join(root, hostileName)
	out := filepath.Join(root, "out "+hostileName)
	cwd := filepath.Join(root, "cwd")
	for _, d := range []string{conf, out, cwd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := Config{Region: "eu-west-1", Port: 587, Username: testKeyID, Password: mta.Secret(ses.SMTPPassword(testSecret, "eu-west-1")),
		PostfixDir: conf, Distro: ParseOSRelease(debianOSRelease)}
	key := c.RelayHost()
	operators := "# the operator's relays\n[smtp.other-relay.example]:587 other-user:other-pass\n" +
		key + " AKIAOLDOLDOLDOLDOLD1:old-password\n" +
		"\n[mail.backup.example]:25 backup:pw\n"
	files := map[string]string{
		filepath.Join(conf, "main.cf"):      "myhostname = mail.example.com\n",
		filepath.Join(conf, "master.cf"):    "smtp      unix  -       -       y       -       -       smtp\n  -o smtp_fallback_relay=[backup.example]\n",
		filepath.Join(conf, SASLPasswdFile): operators,
		filepath.Join(out, ApplyScriptFile): c.ApplyScript(),
	}
	for p, data := range files {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteSASLPasswd(out, c.Credentials()); err != nil {
		t.Fatal(err)
	}
	pathEnv, calls := stubCommands(t)
	cmd := exec.Command("sh", filepath.Join(out, ApplyScriptFile))
	cmd.Dir = cwd
	cmd.Env = strings.Split(pathEnv, "\x00")
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apply-postfix.sh: %v\n%s", err, output)
	}

	// No injected command ran, anywhere.
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), "PWNED") {
			t.Errorf("an injected command ran: %s exists", p)
		}
		return nil
	})

	// Each value is one argv element.
	passwd := filepath.Join(conf, SASLPasswdFile)
	want := []stubbedCall{{"apt-get", []string{"install", "-y", "libsasl2-modules"}}}
	for _, s := range c.Settings() {
		want = append(want, stubbedCall{"postconf", []string{"-c", conf, "-e", s.String()}})
	}
	want = append(want,
		stubbedCall{"postmap", []string{"-c", conf, "hash:" + passwd}},
		stubbedCall{"chown", []string{"root:root", passwd + ".db"}},
		stubbedCall{"postfix", []string{"-c", conf, "check"}},
		stubbedCall{"postfix", []string{"-c", conf, "status"}},
		stubbedCall{"postfix", []string{"-c", conf, "start"}},
	)
	got := calls()
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g stubbedCall) bool { return g.name == w.name && slices.Equal(g.args, w.args) }) {
			t.Errorf("no call %s %q; calls:\n%q", w.name, w.args, got)
		}
	}
	for _, g := range got {
		if strings.Contains(strings.Join(g.args, " "), c.Password.Reveal()) {
			t.Errorf("the password is in the argv of %s", g.name)
		}
		if g.name == "chown" && (len(g.args) != 2 || !strings.HasPrefix(g.args[1], passwd)) {
			t.Errorf("chown %q is not about %s", g.args, passwd)
		}
	}

	// The map: sesame's entry replaced the old one in place; the operator's
	// lines are there byte for byte; the old file is backed up beside it.
	installed, err := os.ReadFile(passwd)
	if err != nil {
		t.Fatal(err)
	}
	wantMap := strings.Replace(operators, key+" AKIAOLDOLDOLDOLDOLD1:old-password\n", Line(c.Credentials()), 1)
	if string(installed) != wantMap {
		t.Errorf("installed sasl_passwd =\n%q\nwant\n%q", installed, wantMap)
	}
	if !bytes.Equal(installed, MergeSASLPasswd([]byte(operators), c.Credentials())) {
		t.Error("the script's merge differs from MergeSASLPasswd's")
	}
	if st, _ := os.Stat(passwd); st.Mode().Perm() != 0o600 {
		t.Errorf("installed sasl_passwd is %o, want 0600", st.Mode().Perm())
	}
	backups, _ := filepath.Glob(filepath.Join(conf, SASLPasswdFile+".sesame-*"))
	if len(backups) != 1 {
		t.Fatalf("backups of sasl_passwd: %q, want one", backups)
	}
	if old, _ := os.ReadFile(backups[0]); string(old) != operators {
		t.Errorf("the backup holds %q, want the operator's file", old)
	}
	master, _ := os.ReadFile(filepath.Join(conf, "master.cf"))
	if !strings.Contains(string(master), "\n#  -o smtp_fallback_relay=") {
		t.Errorf("master.cf's override is not commented out:\n%s", master)
	}
	if strings.Contains(string(output), c.Password.Reveal()) {
		t.Error("the script printed the password")
	}

	// Run again: nothing of the operator's is lost, sesame's line once.
	if output, err := cmd2(cmd).CombinedOutput(); err != nil {
		t.Fatalf("second run: %v\n%s", err, output)
	}
	if again, _ := os.ReadFile(passwd); string(again) != wantMap {
		t.Errorf("after a second run sasl_passwd =\n%q\nwant\n%q", again, wantMap)
	}
}

// cmd2 is a fresh copy of an exec.Cmd that already ran.
func cmd2(c *exec.Cmd) *exec.Cmd {
	n := exec.Command(c.Path, c.Args[1:]...)
	n.Dir, n.Env = c.Dir, c.Env
	return n
}

// TestApplyScriptComments checks that a value shown in a comment cannot
// end it (each control character is shown as "?"), and that Validate
// refuses such a directory before any file is rendered for real.
func TestApplyScriptComments(t *testing.T) {
	c := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW", PostfixDir: "/etc/postfix\ntouch /tmp/PWNED\n#",
		Distro: Distro{Name: "evil\rname\ninjected", Family: "debian"}}
	for name, want := range map[string]string{
		"script":  "# into Postfix at /etc/postfix?touch /tmp/PWNED?#. Run it as root",
		"script ": "SASL PLAIN/LOGIN modules to AUTH to SES (evil?name?injected).",
		"main.cf": "# Set these in /etc/postfix?touch /tmp/PWNED?#/main.cf with",
	} {
		text := c.ApplyScript()
		if name == "main.cf" {
			text = c.MainCF()
		}
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks the comment %q:\n%s", name, want, text)
		}
	}
	var de *DirError
	if err := c.Validate(); !errors.As(err, &de) {
		t.Errorf("Validate() = %v, want a *DirError for the Postfix directory", err)
	}
}

// TestPostfixInstallMergesSASLPasswd is --apply-postfix's own install (no
// script) against stubbed Postfix commands: sesame's entry is merged into
// the installed sasl_passwd, the operator's other entries stay byte for
// byte, the old file is kept beside it, and afterwards the map is current.
func TestPostfixInstallMergesSASLPasswd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("--apply-postfix needs root")
	}
	sbin := t.TempDir()
	stubs := map[string]string{
		// A query prints "name =" for each name; -e changes nothing here.
		"postconf": `case " $* " in *" -e "*) exit 0;; esac
skip=0
for a; do
	if [ $skip = 1 ]; then skip=0; continue; fi
	case $a in -c) skip=1;; -*) ;; *) echo "$a =";; esac
done`,
		"postmap": `for last; do :; done
: > "${last#hash:}.db"`,
		"postfix": `for last; do :; done
[ "$last" != status ]`,
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(sbin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := t.TempDir()
	operators := "# relays of other senders\n[smtp.other.example]:587 user:pass\n"
	for name, data := range map[string]string{"main.cf": "myhostname = mx.example\n", "master.cf": "", SASLPasswdFile: operators} {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: mta.Secret(ses.SMTPPassword(testSecret, "us-east-1")), PostfixDir: conf}
	inst := Install{Dir: conf, Sbin: sbin}
	passwd := filepath.Join(conf, SASLPasswdFile)
	passwdChange := func() Change {
		t.Helper()
		diff, err := inst.Diff(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range diff {
			if ch.Name == passwd {
				return ch
			}
		}
		t.Fatalf("the diff %+v does not mention %s", diff, passwd)
		return Change{}
	}
	if ch := passwdChange(); ch.Action != Merge || !strings.Contains(ch.Note, "every other line stays") {
		t.Errorf("before: %+v, want a merge", ch)
	}
	applied, err := inst.Apply(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(passwd); string(got) != operators+Line(c.Credentials()) {
		t.Errorf("installed sasl_passwd = %q, want the operator's lines and sesame's", got)
	}
	if old, err := os.ReadFile(applied.PasswdBackup); err != nil || string(old) != operators {
		t.Errorf("backup %q = %q, %v; want the operator's file", applied.PasswdBackup, old, err)
	}
	if ch := passwdChange(); ch.Action != Unchanged {
		t.Errorf("after: %+v, want unchanged", ch)
	}
}
