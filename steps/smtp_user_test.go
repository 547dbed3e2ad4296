package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

// newSMTPEnv is an env whose account step has run.
func newSMTPEnv(t *testing.T) *awsEnv {
	e := newAWSEnv(t, "arn:aws:iam::123456789012:user/ops")
	e.Facts.Account = &AccountInfo{ID: testAccount, ARN: "arn:aws:iam::123456789012:user/ops", Region: "eu-west-1"}
	return e
}

const testUser = "ses-smtp-example-com"

// checkSecretsNotOnDisk fails if any secret the fake IAM issued is in any
// file under dir.
func checkSecretsNotOnDisk(t *testing.T, e *awsEnv, dir string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, s := range e.iam.Secrets() {
			if strings.Contains(string(data), s) {
				t.Errorf("%s contains an IAM secret access key", p)
			}
		}
		return nil
	})
}

func TestSMTPUserFromEmpty(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	s := SMTPUser{}
	res, err := s.Check(ctx, e.Env)
	if err != nil || res.Status != StatusTodo {
		t.Fatalf("first Check = %v %q %v, want todo", res.Status, res.Detail, err)
	}
	if e.Answers.SMTPUser != testUser {
		t.Errorf("default user = %q", e.Answers.SMTPUser)
	}
	p, err := s.Plan(ctx, e.Env)
	if err != nil || !p.NeedsApproval {
		t.Fatalf("Plan = %+v, %v", p, err)
	}
	var acts []string
	for _, c := range p.Changes {
		acts = append(acts, string(c.Action)+" "+c.Resource)
	}
	if want := "create iam-user,create iam-policy,create access-key,write file"; strings.Join(acts, ",") != want {
		t.Errorf("plan = %s, want %s", strings.Join(acts, ","), want)
	}
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	res, err = s.Check(ctx, e.Env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check after Apply = %v %q %v, want done", res.Status, res.Detail, err)
	}

	keys := e.iam.Keys(testUser)
	if len(keys) != 1 {
		t.Fatalf("keys = %v, want one", keys)
	}
	entry, err := ReadSASLPasswd(e.Answers.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if entry.Username != keys[0] || entry.Host != "email-smtp.eu-west-1.amazonaws.com" || entry.Port != 587 ||
		entry.Password.Reveal() != ses.SMTPPassword(e.iam.Secret(keys[0]), "eu-west-1") {
		t.Errorf("sasl_passwd entry = %s %s:%d, password derived right: %v", entry.Username, entry.Host, entry.Port, entry.Password.Reveal() == ses.SMTPPassword(e.iam.Secret(keys[0]), "eu-west-1"))
	}
	path := filepath.Join(e.Answers.OutDir, SASLPasswdFile)
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("sasl_passwd mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(e.Answers.OutDir); fi.Mode().Perm() != 0o700 {
		t.Errorf("out dir mode %v, want 0700", fi.Mode().Perm())
	}
	checkSecretsNotOnDisk(t, e, filepath.Dir(e.Answers.OutDir))
	for _, ev := range e.events {
		if strings.Contains(ev.Detail, e.iam.Secret(keys[0])) || strings.Contains(ev.Detail, entry.Password.Reveal()) {
			t.Errorf("event leaks a secret: %q", ev.Detail)
		}
	}
	if tags := e.iam.Tags(testUser); tags[TagManagedBy] != "sesame" || tags[TagDomain] != "example.com" {
		t.Errorf("tags = %v", tags)
	}
	if !strings.Contains(e.iam.Policy(testUser, SMTPPolicyName), `"arn:aws:ses:eu-west-1:123456789012:identity/example.com"`) {
		t.Errorf("policy = %s", e.iam.Policy(testUser, SMTPPolicyName))
	}
	r := e.Record
	if !r.UserCreated || r.AccessKeyID != keys[0] || !slices.Equal(r.KeysCreated, keys) || r.KeyIntent != nil || r.Files[RoleSASLPasswd] != path {
		t.Errorf("record = %+v", r)
	}
	if c := e.Facts.Credentials; c == nil || c.AccessKeyID != keys[0] || c.Password.Reveal() != entry.Password.Reveal() || !c.Created {
		t.Errorf("credentials fact = %+v", c)
	}
	// The Check after Apply found the credentials Apply made: shown once.
	var shown int
	for _, ev := range e.events {
		if _, ok := ev.Data.(*Credentials); ok {
			shown++
		}
	}
	if shown != 1 {
		t.Errorf("credentials published %d times, want once", shown)
	}

	// A second Apply (and Check) changes nothing.
	before := e.iam.Mutations()
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	if got := e.iam.Mutations(); got != before {
		t.Errorf("second Apply made %d mutating calls", got-before)
	}
}

func TestSMTPUserCreateUserRace(t *testing.T) {
	e := newSMTPEnv(t)
	e.iam.Before = func(f *stepstest.FakeIAM, op string) {
		if op == "CreateUser" {
			f.AddUser(testUser, map[string]string{TagManagedBy: "sesame"})
		}
	}
	if err := (SMTPUser{}).Apply(context.Background(), e.Env); err != nil {
		t.Fatalf("an EntityAlreadyExists race must be success: %v", err)
	}
	if e.Record.UserCreated {
		t.Error("the record claims a user another writer made")
	}
	if res, err := (SMTPUser{}).Check(context.Background(), e.Env); err != nil || res.Status != StatusDone {
		t.Errorf("Check after the race = %v %q %v", res.Status, res.Detail, err)
	}
}

func TestSMTPUserDenied(t *testing.T) {
	tests := []struct {
		op, action string
		want       []string
	}{
		{"CreateUser", "iam:CreateUser", []string{"IAM denied iam:CreateUser for arn:aws:iam::123456789012:user/ses-smtp-example-com", "sesame policy", "--smtp-user"}},
		{"GetUser", "iam:GetUser", []string{"iam:GetUser", "sesame policy"}},
		{"CreateAccessKey", "iam:CreateAccessKey", []string{"iam:CreateAccessKey", "sesame policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			e := newSMTPEnv(t)
			e.iam.FailNext(tt.op, stepstest.AccessDenied(tt.action))
			err := (SMTPUser{}).Apply(context.Background(), e.Env)
			if err == nil {
				t.Fatal("Apply succeeded under a denial")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !IsAccessDenied(err) {
				t.Error("the AWS error is not wrapped")
			}
		})
	}
}

func TestSMTPUserTwoKeys(t *testing.T) {
	tests := []struct {
		name       string
		replace    []string // --replace-key
		choose     string   // the answer to the question
		wantExit   int
		wantDelete int // index of the deleted key; -1 none
	}{
		{name: "no-input names the flag", wantExit: 2, wantDelete: -1},
		{name: "asks and deletes the chosen key", choose: "second", wantDelete: 1},
		{name: "--replace-key", replace: []string{"first"}, wantDelete: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSMTPEnv(t)
			e.iam.AddUser(testUser, nil) // the operator's user
			now := time.Now()
			k0, _ := e.iam.AddAccessKey(testUser, now.Add(-400*24*time.Hour))
			k1, _ := e.iam.AddAccessKey(testUser, now.Add(-3*24*time.Hour))
			e.iam.SetKeyLastUsed(k1, now.Add(-time.Hour), "eu-west-1")
			ids := map[string]string{"first": k0, "second": k1}
			for _, r := range tt.replace {
				e.Options.ReplaceKeys = append(e.Options.ReplaceKeys, ids[r])
			}
			if tt.choose != "" {
				e.prompt.choose["replace-key"] = ids[tt.choose]
			}
			p, err := SMTPUser{}.Plan(ctx, e.Env)
			if tt.wantExit != 0 {
				if ExitCode(err) != tt.wantExit || !strings.Contains(err.Error(), "--replace-key") {
					t.Fatalf("Plan err = %v, want exit %d naming --replace-key", err, tt.wantExit)
				}
				if e.iam.Mutations() != 0 {
					t.Error("a refused plan changed IAM")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Changes[0].Action != ActionUnchanged || !strings.Contains(p.Changes[0].Note, "not made by sesame") {
				t.Errorf("plan does not say the user is reused: %+v", p.Changes[0])
			}
			if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
				t.Fatal(err)
			}
			keys := e.iam.Keys(testUser)
			deleted := []string{k0, k1}[tt.wantDelete]
			kept := []string{k0, k1}[1-tt.wantDelete]
			if len(keys) != 2 || slices.Contains(keys, deleted) || !slices.Contains(keys, kept) {
				t.Errorf("keys = %v, want %s deleted and %s kept", keys, deleted, kept)
			}
			if e.iam.Calls("DeleteAccessKey") != 1 {
				t.Errorf("DeleteAccessKey called %d times", e.iam.Calls("DeleteAccessKey"))
			}
			if e.Record.UserCreated || len(e.iam.Tags(testUser)) != 0 {
				t.Error("sesame claimed or tagged the operator's user")
			}
		})
	}
}

func TestSMTPUserOrphanRecovery(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	// A run made the user, recorded its intent, created a key and died
	// before writing the password.
	e.iam.AddUser(testUser, map[string]string{TagManagedBy: "sesame", TagDomain: "example.com"})
	e.iam.SetPolicy(testUser, SMTPPolicyName, SMTPUserPolicy("eu-west-1", testAccount, "example.com"))
	started := time.Now().Add(-time.Hour)
	oldOperatorKey, _ := e.iam.AddAccessKey(testUser, started.Add(-30*24*time.Hour))
	orphan, _ := e.iam.AddAccessKey(testUser, started.Add(2*time.Second))
	e.Record.UserCreated = true
	e.Record.KeyIntent = &KeyIntent{UserName: testUser, StartedAt: started}

	res, err := SMTPUser{}.Check(ctx, e.Env)
	if err != nil || res.Status != StatusTodo {
		t.Fatalf("Check = %v %q %v", res.Status, res.Detail, err)
	}
	p, err := SMTPUser{}.Plan(ctx, e.Env)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range p.Changes {
		if c.Action == ActionDelete && c.Name == orphan && strings.Contains(c.Note, "password was never saved") {
			found = true
		}
		if c.Action == ActionDelete && c.Name == oldOperatorKey {
			t.Errorf("plan deletes a key sesame did not make: %+v", c)
		}
	}
	if !found {
		t.Errorf("plan does not delete the orphan: %+v", p.Changes)
	}
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	keys := e.iam.Keys(testUser)
	entry, err := ReadSASLPasswd(e.Answers.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(keys, orphan) || !slices.Contains(keys, oldOperatorKey) || len(keys) != 2 || !slices.Contains(keys, entry.Username) {
		t.Errorf("keys = %v (orphan %s, operator's %s, on disk %s)", keys, orphan, oldOperatorKey, entry.Username)
	}
	if e.Record.KeyIntent != nil {
		t.Error("the intent is still recorded")
	}
	if res, _ := (SMTPUser{}).Check(ctx, e.Env); res.Status != StatusDone {
		t.Errorf("Check after recovery = %s %q", res.Status, res.Detail)
	}
}

// Only the orphan: the user ends with exactly one key, its password on disk.
func TestSMTPUserOrphanEndsWithOneKey(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	e.iam.AddUser(testUser, map[string]string{TagManagedBy: "sesame"})
	started := time.Now()
	orphan, _ := e.iam.AddAccessKey(testUser, started.Add(-10*time.Second)) // IAM's clock a little behind
	e.Record.UserCreated = true
	e.Record.KeyIntent = &KeyIntent{UserName: testUser, StartedAt: started}
	e.Options.Yes = true
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	keys := e.iam.Keys(testUser)
	entry, _ := ReadSASLPasswd(e.Answers.OutDir)
	if len(keys) != 1 || keys[0] == orphan || keys[0] != entry.Username {
		t.Errorf("keys = %v, on disk %s, orphan %s", keys, entry.Username, orphan)
	}
}

func TestSMTPUserPolicyDrift(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	// The same policy, written another way, is no change.
	e.iam.SetPolicy(testUser, SMTPPolicyName, `{"Statement":[{"Resource":["arn:aws:ses:eu-west-1:123456789012:identity/example.com"],"Action":["ses:SendRawEmail"],"Effect":"Allow","Sid":"SesameSendOnly"}],"Version":"2012-10-17"}`)
	if res, _ := (SMTPUser{}).Check(ctx, e.Env); res.Status != StatusDone {
		t.Errorf("an equivalent policy is drift: %s %q", res.Status, res.Detail)
	}
	e.iam.SetPolicy(testUser, SMTPPolicyName, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:*","Resource":"*"}]}`)
	res, _ := SMTPUser{}.Check(ctx, e.Env)
	if res.Status != StatusTodo {
		t.Fatalf("a wider policy is not drift: %s", res.Status)
	}
	p, err := SMTPUser{}.Plan(ctx, e.Env)
	if err != nil || len(p.Changes) != 1 || p.Changes[0].Action != ActionUpdate || !strings.Contains(p.Changes[0].Current, "ses:*") {
		t.Fatalf("plan = %+v, %v", p.Changes, err)
	}
	before := e.iam.Calls("CreateAccessKey")
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	if e.iam.Calls("CreateAccessKey") != before {
		t.Error("fixing the policy made a new key")
	}
}

func TestSMTPUserWrongRegionFile(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	e.Answers.Region = "us-east-1"
	e.Facts.Account.Region = "us-east-1"
	res, err := SMTPUser{}.Check(ctx, e.Env)
	if err != nil || res.Status != StatusTodo || !strings.Contains(res.Detail, "bound to a region") {
		t.Fatalf("Check = %s %q %v", res.Status, res.Detail, err)
	}
}

// A run that died after writing the password but before saving the record
// is finished by the next Check: no new key, the record completed.
func TestSMTPUserCrashAfterWrite(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	key := e.Record.AccessKeyID
	// The state file as it was just before CreateAccessKey.
	e.Record.AccessKeyID, e.Record.KeysCreated = "", nil
	e.Record.KeyIntent = &KeyIntent{UserName: testUser, StartedAt: time.Now().Add(-5 * time.Second)}
	before := e.iam.Mutations()
	res, err := SMTPUser{}.Check(ctx, e.Env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check = %s %q %v", res.Status, res.Detail, err)
	}
	if e.iam.Mutations() != before || e.Record.AccessKeyID != key || !slices.Equal(e.Record.KeysCreated, []string{key}) || e.Record.KeyIntent != nil {
		t.Errorf("record %+v, mutations %d", e.Record, e.iam.Mutations()-before)
	}
}

// sasl_passwd is 0600 whatever the umask, and an existing wider directory
// the operator chose is used as it is, never chmod'ed.
func TestSMTPUserFileModes(t *testing.T) {
	e := newSMTPEnv(t)
	if err := os.MkdirAll(e.Answers.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(e.Answers.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (SMTPUser{}).Apply(context.Background(), e.Env); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(e.Answers.OutDir)
	f, _ := os.Stat(filepath.Join(e.Answers.OutDir, SASLPasswdFile))
	if fi.Mode().Perm() != 0o755 || f.Mode().Perm() != 0o600 {
		t.Errorf("dir %v, file %v", fi.Mode().Perm(), f.Mode().Perm())
	}
	checkSecretsNotOnDisk(t, e, e.Answers.OutDir)
}

// The intent is saved before CreateAccessKey; a password that cannot be
// written takes its new key with it.
func TestSMTPUserIntentAndWriteFailure(t *testing.T) {
	e := newSMTPEnv(t)
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.Answers.OutDir = filepath.Join(blocker, "out")
	var savedIntent bool
	e.iam.Before = func(_ *stepstest.FakeIAM, op string) {
		if op == "CreateAccessKey" {
			savedIntent = e.Record.KeyIntent != nil && e.saves > 0
		}
	}
	err := (SMTPUser{}).Apply(context.Background(), e.Env)
	if err == nil || !strings.Contains(err.Error(), "was deleted again") {
		t.Fatalf("err = %v", err)
	}
	if !savedIntent {
		t.Error("CreateAccessKey ran before the intent was saved")
	}
	if keys := e.iam.Keys(testUser); len(keys) != 0 || e.Record.KeyIntent != nil {
		t.Errorf("keys %v, intent %+v", keys, e.Record.KeyIntent)
	}
}
