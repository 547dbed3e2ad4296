package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awssim"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string
		// check inspects a parsed config.
		check func(config) bool
	}{
		{"defaults", nil, "", func(c config) bool {
			return c.listen == "127.0.0.1:0" && c.opts.AccountID == awssim.DefaultAccountID && c.opts.ChangeDelay == awssim.DefaultChangeDelay && c.smtpRegion == "us-east-1"
		}},
		{"knobs", []string{"--faults", "throttle=0.5", "--deny", "iam:CreateUser", "--hang-after", "CreateAccessKey", "--production", "--account-id", "210987654321", "--change-delay", "0"}, "", func(c config) bool {
			return c.opts.Faults.Throttle == 0.5 && len(c.opts.Deny) == 1 && c.opts.HangAfter == "CreateAccessKey" && c.opts.Production && c.opts.AccountID == "210987654321" && c.opts.ChangeDelay < 0
		}},
		{"bad faults", []string{"--faults", "slow=1"}, "unknown kind", nil},
		{"bad deny", []string{"--deny", "CreateUser"}, "SERVICE:Action", nil},
		{"stray argument", []string{"serve"}, "flags only", nil},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Errorf("parseFlags(%q) = %+v, %v", tt.args, c, err)
			}
		})
	}
}

// lockedBuffer collects a child's stderr while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSim builds sesame-sim, starts it with args and returns the lines it
// printed on stdout before serving (URL first) and its stderr.
func startSim(t *testing.T, args ...string) (lines []string, stderr *lockedBuffer, cmd *exec.Cmd) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sesame-sim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, args...)
	stderr = &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	joined := strings.Join(args, " ")
	want := 1 + strings.Count(joined, "--dns") + strings.Count(joined, "--smtp ") + strings.Count(joined, "--smtps ")
	sc := bufio.NewScanner(stdout)
	for len(lines) < want && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < want || !strings.HasPrefix(lines[0], "http://127.0.0.1:") {
		t.Fatalf("stdout %q, want the endpoint URL first; stderr:\n%s", lines, stderr)
	}
	return lines, stderr, cmd
}

func TestAWSCLI(t *testing.T) {
	awsBin := "/usr/bin/aws"
	if _, err := os.Stat(awsBin); err != nil {
		p, err := exec.LookPath("aws")
		if err != nil {
			t.Skip("the AWS CLI is not installed (apt-get install awscli): skipping the third-party client test")
		}
		awsBin = p
	}
	lines, stderr, cmd := startSim(t)
	url := lines[0]
	home := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		c := exec.Command(awsBin, append([]string{"--endpoint-url", url, "--output", "json"}, args...)...)
		c.Env = []string{
			"HOME=" + home, "PATH=" + os.Getenv("PATH"),
			"AWS_ACCESS_KEY_ID=AKIACLITEST000000000", "AWS_SECRET_ACCESS_KEY=cli-test-secret",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		}
		var out, errOut bytes.Buffer
		c.Stdout, c.Stderr = &out, &errOut
		if err := c.Run(); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		var v map[string]any
		if out.Len() > 0 {
			if err := json.Unmarshal(out.Bytes(), &v); err != nil {
				t.Fatalf("aws %s printed %q: %v", strings.Join(args, " "), out.String(), err)
			}
		}
		return v
	}
	field := func(v map[string]any, path ...string) any {
		var cur any = v
		for _, p := range path {
			m, _ := cur.(map[string]any)
			cur = m[p]
		}
		return cur
	}

	if got := field(run("iam", "create-user", "--user-name", "relay", "--tags", "Key=created-by,Value=sesame"), "User", "Arn"); got != "arn:aws:iam::123456789012:user/relay" {
		t.Errorf("create-user Arn = %v", got)
	}
	key := run("iam", "create-access-key", "--user-name", "relay")
	if id, _ := field(key, "AccessKey", "AccessKeyId").(string); !strings.HasPrefix(id, "AKIA") || len(id) != 20 {
		t.Errorf("create-access-key id = %q", id)
	}
	zone := run("route53", "create-hosted-zone", "--name", "example.com", "--caller-reference", "cli-1")
	zoneID, _ := field(zone, "HostedZone", "Id").(string)
	if ns, _ := field(zone, "DelegationSet", "NameServers").([]any); !strings.HasPrefix(zoneID, "/hostedzone/Z") || len(ns) != 4 {
		t.Fatalf("create-hosted-zone = %v", zone)
	}
	batch := `{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"_dmarc.example.com","Type":"TXT","TTL":300,"ResourceRecords":[{"Value":"\"v=DMARC1; p=none\""}]}}]}`
	if st := field(run("route53", "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", batch), "ChangeInfo", "Status"); st != "PENDING" {
		t.Errorf("change-resource-record-sets status = %v", st)
	}
	sets, _ := field(run("route53", "list-resource-record-sets", "--hosted-zone-id", zoneID), "ResourceRecordSets").([]any)
	var names []string
	for _, s := range sets {
		m := s.(map[string]any)
		names = append(names, m["Name"].(string)+" "+m["Type"].(string))
	}
	if strings.Join(names, ",") != "example.com. NS,example.com. SOA,_dmarc.example.com. TXT" {
		t.Errorf("list-resource-record-sets = %v", names)
	}
	if acct := field(run("sts", "get-caller-identity"), "Account"); acct != "123456789012" {
		t.Errorf("get-caller-identity Account = %v", acct)
	}
	if sandbox := field(run("sesv2", "get-account"), "ProductionAccessEnabled"); sandbox != false {
		t.Errorf("sesv2 get-account ProductionAccessEnabled = %v, want false (sandbox)", sandbox)
	}

	want := []string{
		"iam CreateUser 200", "iam CreateAccessKey 200", "route53 CreateHostedZone 201",
		"route53 ChangeResourceRecordSets 200", "route53 ListResourceRecordSets 200",
		"sts GetCallerIdentity 200", "sesv2 GetAccount 200",
	}
	if got := strings.TrimSpace(stderr.String()); got != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	// SIGTERM stops it cleanly.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("sesame-sim did not stop on SIGTERM")
	}
}

func TestSeedFileAndExtraEndpoints(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seed, []byte(`{"zones":[{"name":"example.com","records":[{"name":"example.com","type":"MX","ttl":300,"values":["10 mx.example.net."]}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "smtp.pem")
	lines, _, _ := startSim(t, "--seed-file", seed, "--dns", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--smtp-cert-out", cert)
	if !strings.HasPrefix(lines[1], "dns 127.0.0.1:") || !strings.HasPrefix(lines[2], "smtp 127.0.0.1:") {
		t.Fatalf("stdout = %q, want the URL, then dns ADDR and smtp ADDR", lines)
	}
	if b, err := os.ReadFile(cert); err != nil || !bytes.Contains(b, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("--smtp-cert-out: %v", err)
	}
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Log("dig is not installed: not checking the seeded zone over DNS")
		return
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(lines[1], "dns "), ":")
	out, err := exec.Command(dig, "+short", "+time=2", "+tries=1", "-p", port, "@"+host, "example.com", "MX").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "10 mx.example.net." {
		t.Errorf("dig MX example.com = %q, %v; want the seeded MX", out, err)
	}
}
