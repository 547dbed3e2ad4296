// Package postfixtest runs a private Postfix instance for tests: its own
// configuration, queue and data directories in a temporary directory, no
// listening smtpd, mail injected with its sendmail. It needs root and
// Debian's postfix and libsasl2-modules (or the same on another
// distribution); Skip says when they are missing.
package postfixtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sbin is where Postfix's commands are.
const Sbin = "/usr/sbin"

// Missing says what this machine lacks to run a private Postfix, or "".
func Missing() string {
	if os.Geteuid() != 0 {
		return "not root: a private Postfix instance needs root to start"
	}
	for _, tool := range []string{"postfix", "postmap", "postconf", "postqueue", "sendmail"} {
		if _, err := os.Stat(filepath.Join(Sbin, tool)); err != nil {
			return fmt.Sprintf("%s/%s is missing: install Postfix (apt-get install postfix)", Sbin, tool)
		}
	}
	if _, err := user.Lookup("postfix"); err != nil {
		return "no postfix user: install Postfix (apt-get install postfix)"
	}
	plugins, _ := filepath.Glob("/usr/lib*/*/sasl2/libplain.so*")
	more, _ := filepath.Glob("/usr/lib*/sasl2/libplain.so*")
	if len(plugins)+len(more) == 0 {
		return "the Cyrus SASL PLAIN plugin is missing: install libsasl2-modules (or cyrus-sasl-plain)"
	}
	return ""
}

// Skip skips the test when a private Postfix cannot run here.
func Skip(t testing.TB) {
	t.Helper()
	if why := Missing(); why != "" {
		t.Skip("real-Postfix test skipped: " + why)
	}
}

// Instance is a private Postfix.
type Instance struct {
	// Dir holds everything; ConfDir is its config_directory.
	Dir, ConfDir, QueueDir string
	// LogFile is its maillog_file.
	LogFile string
	t       testing.TB
	started bool
}

// New prepares (but does not start) an instance with a base main.cf:
// loopback only, no local delivery, its own directories, fast retries, and
// a master.cf without inet services or chroot (the SASL plugins and the CA
// file must be reachable). Stopping and removal are registered with
// t.Cleanup.
func New(t testing.TB) *Instance {
	t.Helper()
	Skip(t)
	// Not t.TempDir: its parents are 0700 and Postfix's unprivileged
	// daemons must reach the queue.
	dir, err := os.MkdirTemp("", "sesame-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	in := &Instance{Dir: dir, ConfDir: filepath.Join(dir, "conf"), QueueDir: filepath.Join(dir, "queue"),
		LogFile: filepath.Join(dir, "maillog"), t: t}
	t.Cleanup(func() {
		in.Stop()
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("private Postfix left in %s for inspection; its log:\n%s", dir, in.Log())
		}
	})
	data := filepath.Join(dir, "data")
	for _, d := range []string{in.ConfDir, in.QueueDir, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pf.Uid)
	if err := os.Chown(data, uid, -1); err != nil {
		t.Fatal(err)
	}
	mainCF := strings.Join([]string{
		"compatibility_level = 3.6",
		"queue_directory = " + in.QueueDir,
		"data_directory = " + data,
		"mail_owner = postfix",
		"setgid_group = postdrop",
		"inet_interfaces = loopback-only",
		"inet_protocols = ipv4",
		"myhostname = sesame-test.localdomain",
		"mydestination =",
		"alias_maps =",
		"alias_database =",
		"master_service_disable = inet",
		"maillog_file = " + in.LogFile,
		"maillog_file_prefixes = " + dir,
		"queue_run_delay = 2s",
		"minimal_backoff_time = 2s",
		"maximal_backoff_time = 4s",
		"smtp_connect_timeout = 5s",
		// Host names are resolved as the system does (/etc/hosts first), so
		// StartResolving can point SES's names at a local endpoint.
		"smtp_host_lookup = native",
		// Logs "Verified TLS connection established to ..." and why a
		// certificate was refused.
		"smtp_tls_loglevel = 1",
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(in.ConfDir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		t.Skipf("real-Postfix test skipped: no /etc/postfix/master.cf to start from: %v", err)
	}
	if err := os.WriteFile(filepath.Join(in.ConfDir, "master.cf"), privateMaster(master), 0o644); err != nil {
		t.Fatal(err)
	}
	return in
}

// privateMaster drops inet services and turns chroot off in every service.
func privateMaster(master []byte) []byte {
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(master))
	skipping := false
	for sc.Scan() {
		line := sc.Text()
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if !skipping {
				b.WriteString(line + "\n")
			}
			continue
		}
		skipping = false
		f := strings.Fields(line)
		if len(f) >= 8 && !strings.HasPrefix(line, "#") {
			if f[1] == "inet" {
				skipping = true
				continue
			}
			f[4] = "n"
			line = strings.Join(f, "  ")
		}
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// Run runs a Postfix command with -c ConfDir (sendmail takes -C) and
// returns its combined output.
func (in *Instance) Run(name string, args ...string) (string, error) {
	flag := "-c"
	if name == "sendmail" {
		flag = "-C"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(Sbin, name), append([]string{flag, in.ConfDir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Start starts the instance.
func (in *Instance) Start() {
	in.t.Helper()
	if _, err := in.Run("postfix", "start"); err != nil {
		in.t.Fatalf("start the private Postfix: %v\n%s", err, in.Log())
	}
	in.started = true
}

// StartResolving starts the instance in a private mount namespace in
// which /etc/hosts maps each name of hosts to its address and, when ca is
// not "", the system CA bundle (/etc/ssl/certs/ca-certificates.crt) is ca.
// Postfix's processes keep that namespace: its SMTP client reaches a local
// endpoint under SES's own host name, and trusts its certificate as if a
// public CA had signed it, while the machine's files stay as they are.
// The test skips where mount namespaces are not allowed.
func (in *Instance) StartResolving(hosts map[string]string, ca string) {
	in.t.Helper()
	var b strings.Builder
	b.WriteString("127.0.0.1 localhost\n")
	for name, addr := range hosts {
		fmt.Fprintf(&b, "%s %s\n", addr, name)
	}
	hostsFile := filepath.Join(in.Dir, "hosts")
	if err := os.WriteFile(hostsFile, []byte(b.String()), 0o644); err != nil {
		in.t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "-m", "--propagation", "private", "true").CombinedOutput(); err != nil {
		in.t.Skipf("real-Postfix test skipped: no private mount namespace here (unshare -m: %v: %s)", err, out)
	}
	script := `mount --bind "$1" /etc/hosts && { [ -z "$2" ] || mount --bind "$2" /etc/ssl/certs/ca-certificates.crt; } && exec "$3"/postfix -c "$4" start`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", hostsFile, ca, Sbin, in.ConfDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		in.t.Fatalf("start the private Postfix in its own mount namespace: %v: %s\n%s", err, out, in.Log())
	}
	in.started = true
}

// FreeLoopback returns a loopback address other than 127.0.0.1 (all of
// 127.0.0.0/8 is local on Linux), so a test can listen on SES's own port
// without meeting another listener.
func FreeLoopback() string {
	n := time.Now().UnixNano()
	return fmt.Sprintf("127.%d.%d.%d", 10+n%200, (n/200)%250+1, os.Getpid()%250+1)
}

// Stop stops the instance if it runs.
func (in *Instance) Stop() {
	if in.started {
		_, _ = in.Run("postfix", "stop")
		in.started = false
	}
}

// Sendmail injects a message with the instance's sendmail.
func (in *Instance) Sendmail(from, to, subject, body string) {
	in.t.Helper()
	msg := fmt.Sprintf("From: <%s>\nTo: <%s>\nSubject: %s\n\n%s\n", from, to, subject, body)
	cmd := exec.Command(filepath.Join(Sbin, "sendmail"), "-C", in.ConfDir, "-f", from, to)
	cmd.Stdin = strings.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		in.t.Fatalf("sendmail: %v: %s", err, out)
	}
}

// Queue is postqueue -p: the messages waiting, with why they wait.
func (in *Instance) Queue() string {
	out, err := in.Run("postqueue", "-p")
	if err != nil {
		return err.Error()
	}
	return out
}

// Log is the instance's maillog so far.
func (in *Instance) Log() string {
	data, _ := os.ReadFile(in.LogFile)
	return string(data)
}

// WaitFor polls cond every 250 ms until it holds or limit passes; it
// reports whether it held.
func WaitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}
