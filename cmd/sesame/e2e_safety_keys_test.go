package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The key cases of TestNeverDamage: access keys are deleted only when sesame can prove it
// made them and nothing can use them; the SMTP user is sesame's by its
// tags; a second region never takes the first one's permission away.

const keysUser = "ses-smtp-example-com"

var iamAction = regexp.MustCompile(`(?:^|&)Action=(\w+)(?:&|$)`)

// interpose puts a proxy in front of the simulator. hook sees every IAM
// request by its action (other requests have op ""), and either handles
// it (true) or lets it through; fwd passes a request on to the simulator.
func interpose(t *testing.T, sim *simProc, hook func(op string, w http.ResponseWriter, r *http.Request, fwd func(http.ResponseWriter, *http.Request)) bool) *simProc {
	t.Helper()
	target, _ := url.Parse(sim.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		op := ""
		if m := iamAction.FindSubmatch(body); m != nil {
			op = string(m[1])
		}
		fwd := func(w http.ResponseWriter, r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(body))
			proxy.ServeHTTP(w, r)
		}
		if !hook(op, w, r, fwd) {
			fwd(w, r)
		}
	}))
	t.Cleanup(front.Close)
	return &simProc{url: front.URL, dns: sim.dns, smtp: sim.smtp, cert: sim.cert}
}

// dropAnswer lets the simulator act on the request, then closes the
// connection without an answer, as a network that drops it does.
func dropAnswer(w http.ResponseWriter, r *http.Request, fwd func(http.ResponseWriter, *http.Request)) {
	fwd(httptest.NewRecorder(), r)
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

// iamDenied answers an IAM request with AccessDenied, acting on nothing.
func iamDenied(w http.ResponseWriter, action string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/operator is not authorized to perform: %s</Message></Error><RequestId>1</RequestId></ErrorResponse>`, action)
}

// colleagueKey makes an access key on the SMTP user as someone else would
// (straight to the simulator), and uses it once, so IAM has a last use.
func colleagueKey(t *testing.T, sim *simProc) string {
	t.Helper()
	ctx := context.Background()
	out, err := iam.NewFromConfig(sim.awsConfig("us-east-1")).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(keysUser)})
	if err != nil {
		t.Fatalf("the colleague's CreateAccessKey: %v", err)
	}
	id, secret := aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)
	cfg := sim.awsConfig("us-east-1")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("using the colleague's key: %v", err)
	}
	return id
}

// saslKey is the access key id a sasl_passwd names.
func saslKey(t *testing.T, path string) string {
	t.Helper()
	for _, line := range strings.Split(readFile(t, path), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			id, _, _ := strings.Cut(f[1], ":")
			return id
		}
	}
	t.Fatalf("%s names no key", path)
	return ""
}

// The CreateUser answer is lost (the SDK's retry gets EntityAlreadyExists:
// "created meanwhile, reusing it"), then the run ends right after
// CreateAccessKey answered, before the password reached the disk: here the
// --out directory turns into a file at that moment and the cleanup's
// DeleteAccessKey is refused, which leaves the same account and state as a
// kill at that point, but every time. The rerun knows the user is sesame's
// by its tag and the key by the id it saved: it deletes that key, so the
// user ends with one key, the one in sasl_passwd.
func safetyKeysLostCreateUserAnswer(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	var firstRun atomic.Bool
	firstRun.Store(true)
	var droppedUser atomic.Bool
	proxied := interpose(t, sim, func(op string, w http.ResponseWriter, r *http.Request, fwd func(http.ResponseWriter, *http.Request)) bool {
		switch {
		case op == "CreateUser" && droppedUser.CompareAndSwap(false, true):
			dropAnswer(w, r, fwd)
			return true
		case op == "CreateAccessKey" && firstRun.Load():
			rec := httptest.NewRecorder()
			fwd(rec, r)
			// The run ends before the password is on disk.
			if err := os.RemoveAll(out); err != nil {
				t.Error(err)
			}
			if err := os.WriteFile(out, nil, 0o600); err != nil {
				t.Error(err)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return true
		case op == "DeleteAccessKey" && firstRun.Load():
			iamDenied(w, "iam:DeleteAccessKey")
			return true
		}
		return false
	})
	r := proxied.sesame(t, home, onboardArgs(out)...)
	if r.code != 1 || !strings.Contains(r.stderr, "created meanwhile") {
		t.Fatalf("first run: exit %d, want 1 after a reused user and an unwritable password\n%s", r.code, r.stderr)
	}
	lost := sim.accessKeys(t, keysUser)
	if len(lost) != 1 {
		t.Fatalf("keys after the first run: %v, want the one whose password was never written", lost)
	}
	firstRun.Store(false)
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}

	r = proxied.sesame(t, home, onboardArgs(out)...)
	assertComplete(t, r)
	if strings.Contains(r.stderr, "not made by sesame") {
		t.Errorf("the rerun takes sesame's tagged user for someone else's:\n%s", r.stderr)
	}
	keys := sim.accessKeys(t, keysUser)
	if len(keys) != 1 || keys[0] == lost[0] || keys[0] != saslKey(t, filepath.Join(out, "sasl_passwd")) {
		t.Errorf("keys %v after the rerun, want one: sesame's new key, in sasl_passwd (the lost one %s deleted)", keys, lost[0])
	}
}

// While sesame creates its key, a colleague makes one on the same user.
// sesame used to delete it as "made by a retried CreateAccessKey".
func safetyKeysColleagueKeyDuringCreate(t *testing.T) {
	sim := startSim(t)
	var theirs atomic.Value
	var once atomic.Bool
	proxied := interpose(t, sim, func(op string, w http.ResponseWriter, r *http.Request, fwd func(http.ResponseWriter, *http.Request)) bool {
		if op == "CreateAccessKey" && once.CompareAndSwap(false, true) {
			theirs.Store(colleagueKey(t, sim))
		}
		return false
	})
	home := t.TempDir()
	out := filepath.Join(home, "relay")
	r := proxied.sesame(t, home, onboardArgs(out)...)
	assertComplete(t, r)
	colleague, _ := theirs.Load().(string)
	keys := sim.accessKeys(t, keysUser)
	if colleague == "" || len(keys) != 2 || !slices.Contains(keys, colleague) || !slices.Contains(keys, saslKey(t, filepath.Join(out, "sasl_passwd"))) {
		t.Errorf("keys %v, want the colleague's %s kept and sesame's in sasl_passwd", keys, colleague)
	}
	if n := sim.countApplied("DeleteAccessKey"); n != 0 {
		t.Errorf("%d keys deleted, want none: %v", n, sim.mutating())
	}
}

// runWithIntent runs sesame once with CreateAccessKey refused, so the
// state file keeps sesame's key intent, and returns the HOME and --out.
func runWithIntent(t *testing.T, sim *simProc) (home, out string) {
	t.Helper()
	proxied := interpose(t, sim, func(op string, w http.ResponseWriter, r *http.Request, fwd func(http.ResponseWriter, *http.Request)) bool {
		if op == "CreateAccessKey" {
			iamDenied(w, "iam:CreateAccessKey")
			return true
		}
		return false
	})
	home = t.TempDir()
	out = filepath.Join(home, "relay")
	if r := proxied.sesame(t, home, onboardArgs(out)...); r.code != 1 || !strings.Contains(r.stderr, "iam:CreateAccessKey") {
		t.Fatalf("first run: exit %d, want 1 at the refused CreateAccessKey\n%s", r.code, r.stderr)
	}
	return home, out
}

// A run recorded its intent to create a key and stopped (CreateAccessKey
// refused); a colleague then made a key on the user. sesame used to delete
// it as an orphan of the intent.
func safetyKeysColleagueKeyAfterIntent(t *testing.T) {
	sim := startSim(t)
	home, out := runWithIntent(t, sim)
	colleague := colleagueKey(t, sim)
	r := sim.sesame(t, home, onboardArgs(out)...)
	assertComplete(t, r)
	keys := sim.accessKeys(t, keysUser)
	if len(keys) != 2 || !slices.Contains(keys, colleague) {
		t.Errorf("keys %v, want the colleague's %s kept", keys, colleague)
	}
	if n := sim.countApplied("DeleteAccessKey"); n != 0 {
		t.Errorf("%d keys deleted, want none: %v", n, sim.mutating())
	}
	// The plan shows the kept key with its creation and last use.
	var shown bool
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, colleague) && strings.Contains(line, "created ") && strings.Contains(line, "last used") {
			shown = true
		}
	}
	if !shown {
		t.Errorf("the kept key %s is not shown with its creation time and last use:\n%s", colleague, r.stderr)
	}
}

// Two keys sesame cannot prove it made fill the user: with --no-input the
// run stops with exit 2 naming --replace-key and both keys, deleting
// nothing; naming one deletes only that one.
func safetyKeysLimitNamesReplaceKey(t *testing.T) {
	sim := startSim(t)
	home, out := runWithIntent(t, sim)
	a, b := colleagueKey(t, sim), colleagueKey(t, sim)
	r := sim.sesame(t, home, onboardArgs(out)...)
	if r.code != 2 || !strings.Contains(r.stderr, "--replace-key") || !strings.Contains(r.stderr, a) || !strings.Contains(r.stderr, b) {
		t.Fatalf("exit %d, want 2 naming --replace-key, %s and %s\n%s", r.code, a, b, r.stderr)
	}
	if n := sim.countApplied("DeleteAccessKey"); n != 0 {
		t.Fatalf("%d keys deleted without being named: %v", n, sim.mutating())
	}
	assertComplete(t, sim.sesame(t, home, onboardArgs(out, "--replace-key", a)...))
	if keys := sim.accessKeys(t, keysUser); len(keys) != 2 || slices.Contains(keys, a) || !slices.Contains(keys, b) {
		t.Errorf("keys %v after --replace-key %s: want %s kept and sesame's new key", keys, a, b)
	}
}

// The operator installed the relay from one --out, then ran sesame with
// another --out. sesame used to delete the key the installed relay uses
// (recorded as made by sesame, "its password no longer in" the new --out).
// It stays; when a third --out would need a third key, --no-input stops
// with exit 2 naming --replace-key and the key, and deletes nothing.
func safetyKeysInstalledRelayKeyKept(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	installed := filepath.Join(home, "installed")
	assertComplete(t, sim.sesame(t, home, onboardArgs(installed)...))
	live := saslKey(t, filepath.Join(installed, "sasl_passwd"))

	other := filepath.Join(home, "other")
	r := sim.sesame(t, home, onboardArgs(other)...)
	assertComplete(t, r)
	keys := sim.accessKeys(t, keysUser)
	if len(keys) != 2 || !slices.Contains(keys, live) || !strings.Contains(r.stderr, live) {
		t.Errorf("keys %v, want the installed relay's %s kept (and shown)\n%s", keys, live, r.stderr)
	}

	r = sim.sesame(t, home, onboardArgs(filepath.Join(home, "third"))...)
	if r.code != 2 || !strings.Contains(r.stderr, "--replace-key") || !strings.Contains(r.stderr, live) {
		t.Errorf("third --out: exit %d, want 2 naming --replace-key and %s\n%s", r.code, live, r.stderr)
	}
	if n := sim.countApplied("DeleteAccessKey"); n != 0 {
		t.Errorf("%d keys deleted, want none: %v", n, sim.mutating())
	}
	if !slices.Contains(sim.accessKeys(t, keysUser), live) {
		t.Errorf("the installed relay's key %s is gone", live)
	}
}

// allowsSend reports whether a policy document allows ses:SendRawEmail on
// resource, its Resource wildcards matched as IAM matches them. Conditions
// are not evaluated: sesame's is on the sender's domain, example.com here
// (sesame-sim evaluates the whole policy on every SMTP send).
func allowsSend(doc, resource string) bool {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var p struct {
		Statement []struct {
			Effect   string
			Action   any
			Resource any
		}
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	// IAM's wildcards: * matches any run of characters, ? one.
	matches := func(pattern, s string) bool {
		re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
		ok, _ := regexp.MatchString(re, s)
		return ok
	}
	has := func(v any, want string) bool {
		switch x := v.(type) {
		case string:
			return matches(x, want)
		case []any:
			for _, e := range x {
				if s, _ := e.(string); matches(s, want) {
					return true
				}
			}
		}
		return false
	}
	for _, s := range p.Statement {
		if s.Effect == "Allow" && (has(s.Action, "ses:SendRawEmail") || has(s.Action, "ses:*")) && has(s.Resource, resource) {
			return true
		}
	}
	return false
}

// One domain, two regions, the default user shared: the second region's
// setup used to replace the one policy, taking the first region's send
// permission away. Each region keeps its own grant and its own key.
func safetyKeysTwoRegions(t *testing.T) {
	sim := startSim(t)
	home := t.TempDir()
	east, west := filepath.Join(home, "us-east-1"), filepath.Join(home, "eu-west-1")
	assertComplete(t, sim.sesame(t, home, onboardArgs(east)...))
	eastKey := saslKey(t, filepath.Join(east, "sasl_passwd"))
	westArgs := []string{"--no-input", "--yes", "--json", "--domain", "example.com", "--region", "eu-west-1", "--out", west, "--no-smtp-test"}
	if r := sim.sesame(t, home, westArgs...); r.code != 0 {
		t.Fatalf("eu-west-1 setup: exit %d\n%s", r.code, r.stderr)
	}

	ctx := context.Background()
	ic := iam.NewFromConfig(sim.awsConfig("us-east-1"))
	pols, err := ic.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(keysUser)})
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		arn := "arn:aws:ses:" + region + ":123456789012:identity/example.com"
		allowed := false
		for _, name := range pols.PolicyNames {
			p, err := ic.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(keysUser), PolicyName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			allowed = allowed || allowsSend(aws.ToString(p.PolicyDocument), arn)
		}
		if !allowed {
			t.Errorf("no policy of %s (%v) allows sending as %s", keysUser, pols.PolicyNames, arn)
		}
	}
	keys := sim.accessKeys(t, keysUser)
	westKey := saslKey(t, filepath.Join(west, "sasl_passwd"))
	if len(keys) != 2 || !slices.Contains(keys, eastKey) || !slices.Contains(keys, westKey) {
		t.Errorf("keys %v, want us-east-1's %s and eu-west-1's %s", keys, eastKey, westKey)
	}
	// The first region is still done: nothing to change.
	before := len(sim.mutating())
	assertComplete(t, sim.sesame(t, home, onboardArgs(east)...))
	if after := sim.mutating(); len(after) != before {
		t.Errorf("us-east-1 needed changes again after eu-west-1's setup: %v", after[before:])
	}
}
