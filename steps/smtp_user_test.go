package steps

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
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
	entry, err := postfix.ReadSASLPasswd(e.Answers.OutDir)
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
	if !samePolicy(e.iam.Policy(testUser, ses.SMTPUserPolicyName("eu-west-1")), ses.SMTPUserPolicyIn("aws", "eu-west-1", testAccount, "example.com")) {
		t.Errorf("policy = %s", e.iam.Policy(testUser, ses.SMTPUserPolicyName("eu-west-1")))
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

// CreateUser answered EntityAlreadyExists: another writer made the user,
// or this call did and its answer was lost (the SDK retried). The user's
// tags, not the answer, say whether it is sesame's.
func TestSMTPUserCreateUserRace(t *testing.T) {
	tests := []struct {
		name        string
		tags        map[string]string
		wantManaged bool
	}{
		{"made with sesame's tags (a lost answer, another sesame run)", map[string]string{TagManagedBy: TagManagedByValue, TagDomain: "example.com"}, true},
		{"made by someone else, untagged", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			e.iam.Before = func(f *stepstest.FakeIAM, op string) {
				if op == "CreateUser" {
					f.AddUser(testUser, tt.tags)
				}
			}
			if err := (SMTPUser{}).Apply(context.Background(), e.Env); err != nil {
				t.Fatalf("an EntityAlreadyExists race must be success: %v", err)
			}
			if e.Record.UserCreated != tt.wantManaged {
				t.Errorf("record says sesame made the user: %v, want %v", e.Record.UserCreated, tt.wantManaged)
			}
			if res, err := (SMTPUser{}).Check(context.Background(), e.Env); err != nil || res.Status != StatusDone {
				t.Errorf("Check after the race = %v %q %v", res.Status, res.Detail, err)
			}
		})
	}
}

// The CreateUser answer is lost (the SDK's retry got EntityAlreadyExists),
// then the run dies after CreateAccessKey answered and its id was saved,
// before the password was written. The rerun knows the user is sesame's by
// its tag, the key by its saved id: it deletes that key and ends with one.
func TestSMTPUserLostCreateUserAnswerThenCrash(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	e.iam.DropAnswer("CreateUser", errors.New("connection reset by peer"))
	// The first run's CreateUser took effect and its answer was lost; the
	// SDK's retry is the step's own call below, which gets
	// EntityAlreadyExists.
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(testUser), Tags: []iamtypes.Tag{
		{Key: aws.String(TagManagedBy), Value: aws.String(TagManagedByValue)}, {Key: aws.String(TagDomain), Value: aws.String("example.com")}}}); err == nil {
		t.Fatal("the dropped answer did not fail")
	}
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	if !e.Record.UserCreated {
		t.Fatal("a user carrying sesame's tags is not recognised as sesame's")
	}
	// Now the state a run leaves when it dies after saving the new key's
	// id and before writing its password: the file is gone, the key is
	// pending.
	first := e.Record.AccessKeyID
	if err := os.Remove(filepath.Join(e.Answers.OutDir, SASLPasswdFile)); err != nil {
		t.Fatal(err)
	}
	e.Record.KeysCreated, e.Record.KeyFiles, e.Record.AccessKeyID = nil, nil, ""
	e.Record.KeysPending = []state.PendingKey{{ID: first, File: filepath.Join(e.Answers.OutDir, SASLPasswdFile)}}
	e.Record.UserCreated = false // as a record that never heard CreateUser's answer
	p, err := SMTPUser{}.Plan(ctx, e.Env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Action == ActionDelete && c.Name == first }) {
		t.Errorf("plan does not delete the provably unusable key %s: %+v", first, p.Changes)
	}
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	keys := e.iam.Keys(testUser)
	entry, _ := postfix.ReadSASLPasswd(e.Answers.OutDir)
	if len(keys) != 1 || keys[0] == first || keys[0] != entry.Username || !e.Record.UserCreated {
		t.Errorf("keys = %v, on disk %s, lost key %s, record %+v", keys, entry.Username, first, e.Record)
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
			if !awsapi.IsAccessDenied(err) {
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
			// The key chosen when asked is this run's decision; the
			// operator's --replace-key list stays as given.
			if tt.choose != "" && (len(e.Options.ReplaceKeys) != len(tt.replace) || !slices.Contains(e.Decisions.ReplaceKeys, ids[tt.choose])) {
				t.Errorf("options %v, decisions %v", e.Options.ReplaceKeys, e.Decisions.ReplaceKeys)
			}
			if e.Record.UserCreated || len(e.iam.Tags(testUser)) != 0 {
				t.Error("sesame claimed or tagged the operator's user")
			}
		})
	}
}

// Only a key whose id IAM returned to sesame, saved as pending, and whose
// password is in no file is deleted without being named. A key made in
// the minutes after sesame's recorded intent is not proof: it is shown,
// with its age and last use, and kept; so is a key sesame wrote into
// another sasl_passwd, which a relay may be using.
func TestSMTPUserDeletesOnlyProvenKeys(t *testing.T) {
	started := time.Now().Add(-time.Hour)
	tests := []struct {
		name string
		// setup adds keys and the record; it returns the keys that must
		// stay and the ones that must go.
		setup            func(t *testing.T, e *awsEnv) (keep, gone []string)
		replace          func(keep []string) []string
		wantNote         string
		wantExit         int
		wantKeysAfterRun int
	}{
		{
			name: "a colleague's key made two seconds after sesame's intent stays",
			setup: func(t *testing.T, e *awsEnv) ([]string, []string) {
				k, _ := e.iam.AddAccessKey(testUser, started.Add(2*time.Second))
				e.iam.SetKeyLastUsed(k, started.Add(time.Minute), "eu-west-1")
				e.Record.KeyIntent = &state.KeyIntent{UserName: testUser, StartedAt: started}
				return []string{k}, nil
			},
			wantNote: "sesame cannot tell", wantKeysAfterRun: 2,
		},
		{
			name: "a key whose id sesame saved and whose password is in no file goes",
			setup: func(t *testing.T, e *awsEnv) ([]string, []string) {
				k, _ := e.iam.AddAccessKey(testUser, started)
				e.Record.KeysPending = []state.PendingKey{{ID: k, File: filepath.Join(e.Answers.OutDir, SASLPasswdFile)}}
				return nil, []string{k}
			},
			wantKeysAfterRun: 1,
		},
		{
			name: "the key of a sasl_passwd sesame wrote to another --out stays",
			setup: func(t *testing.T, e *awsEnv) ([]string, []string) {
				k, _ := e.iam.AddAccessKey(testUser, started)
				old := filepath.Join(t.TempDir(), "installed", SASLPasswdFile)
				e.Record.KeysCreated, e.Record.KeyFiles = []string{k}, map[string]string{k: old}
				e.Record.AccessKeyID = k
				return []string{k}, nil
			},
			wantNote: "installed", wantKeysAfterRun: 2,
		},
		{
			name: "an old state file's written key (no key_files) stays",
			setup: func(t *testing.T, e *awsEnv) ([]string, []string) {
				k, _ := e.iam.AddAccessKey(testUser, started)
				e.Record.KeysCreated = []string{k}
				return []string{k}, nil
			},
			wantNote: "a sasl_passwd", wantKeysAfterRun: 2,
		},
		{
			name: "at the limit with two unproven keys, --no-input names --replace-key and the keys",
			setup: func(t *testing.T, e *awsEnv) ([]string, []string) {
				a, _ := e.iam.AddAccessKey(testUser, started.Add(time.Second))
				b, _ := e.iam.AddAccessKey(testUser, started.Add(2*time.Second))
				e.Record.KeyIntent = &state.KeyIntent{UserName: testUser, StartedAt: started}
				return []string{a, b}, nil
			},
			wantExit: 2,
		},
		{
			name: "a kept key named with --replace-key goes",
			setup: func(t *testing.T, e *awsEnv) ([]string, []string) {
				a, _ := e.iam.AddAccessKey(testUser, started.Add(time.Second))
				b, _ := e.iam.AddAccessKey(testUser, started.Add(2*time.Second))
				e.Options.ReplaceKeys = []string{a}
				return []string{b}, []string{a}
			},
			wantKeysAfterRun: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSMTPEnv(t)
			e.iam.AddUser(testUser, map[string]string{TagManagedBy: TagManagedByValue, TagDomain: "example.com"})
			e.iam.SetPolicy(testUser, ses.SMTPUserPolicyName("eu-west-1"), ses.SMTPUserPolicy("eu-west-1", testAccount, "example.com"))
			e.Record.UserCreated = true
			keep, gone := tt.setup(t, e)
			p, err := SMTPUser{}.Plan(ctx, e.Env)
			if tt.wantExit != 0 {
				if ExitCode(err) != tt.wantExit || !strings.Contains(err.Error(), "--replace-key") {
					t.Fatalf("Plan err = %v, want exit %d naming --replace-key", err, tt.wantExit)
				}
				for _, k := range keep {
					if !strings.Contains(err.Error(), k) {
						t.Errorf("the error does not name key %s: %v", k, err)
					}
				}
				if e.iam.Mutations() != 0 {
					t.Error("a refused plan changed IAM")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keep {
				i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.Name == k })
				if i < 0 || p.Changes[i].Action != ActionUnchanged || !strings.Contains(p.Changes[i].Note, tt.wantNote) || !strings.Contains(p.Changes[i].Current, "created ") {
					t.Errorf("plan does not show key %s as kept (%q, with its age and last use): %+v", k, tt.wantNote, p.Changes)
				}
			}
			for _, k := range gone {
				if !slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Action == ActionDelete && c.Name == k }) {
					t.Errorf("plan does not delete %s: %+v", k, p.Changes)
				}
			}
			if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
				t.Fatal(err)
			}
			keys := e.iam.Keys(testUser)
			entry, _ := postfix.ReadSASLPasswd(e.Answers.OutDir)
			if len(keys) != tt.wantKeysAfterRun || !slices.Contains(keys, entry.Username) {
				t.Errorf("keys = %v, want %d with the one on disk (%s)", keys, tt.wantKeysAfterRun, entry.Username)
			}
			for _, k := range keep {
				if !slices.Contains(keys, k) {
					t.Errorf("key %s was deleted", k)
				}
			}
			for _, k := range gone {
				if slices.Contains(keys, k) {
					t.Errorf("key %s is still there", k)
				}
			}
			if res, _ := (SMTPUser{}).Check(ctx, e.Env); res.Status != StatusDone {
				t.Errorf("Check after the run = %s %q", res.Status, res.Detail)
			}
		})
	}
}

// While sesame creates its key, another key appears on the user (a
// colleague, another tool): it stays. And a CreateAccessKey whose answer
// is lost is not retried blindly: with no new key on the user it is tried
// again; with a new key (sesame's lost one, or anyone's) the run stops,
// deleting nothing and naming the key.
func TestSMTPUserCreateAccessKeyAnswers(t *testing.T) {
	lost := errors.New("read tcp: connection reset by peer")
	tests := []struct {
		name      string
		arrange   func(e *awsEnv)
		wantErr   string
		wantKeys  int
		wantCalls int
	}{
		{"a colleague's key made meanwhile stays", func(e *awsEnv) {
			e.iam.Before = func(f *stepstest.FakeIAM, op string) {
				if op == "CreateAccessKey" && len(f.Keys(testUser)) == 0 {
					f.AddAccessKey(testUser, time.Now())
				}
			}
		}, "", 2, 1},
		{"a failure that made nothing is tried again", func(e *awsEnv) {
			e.iam.FailNext("CreateAccessKey", lost)
		}, "", 1, 2},
		{"a lost answer stops the run and keeps the key", func(e *awsEnv) {
			e.iam.DropAnswer("CreateAccessKey", lost)
		}, "sesame cannot tell", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			tt.arrange(e)
			err := (SMTPUser{}).Apply(context.Background(), e.Env)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--replace-key")):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if n := len(e.iam.Keys(testUser)); n != tt.wantKeys {
				t.Errorf("%d keys, want %d", n, tt.wantKeys)
			}
			if n := e.iam.Calls("CreateAccessKey"); n != tt.wantCalls {
				t.Errorf("CreateAccessKey called %d times, want %d", n, tt.wantCalls)
			}
			if e.iam.Calls("DeleteAccessKey") != 0 {
				t.Error("a key was deleted")
			}
		})
	}
}

// One domain set up in two regions: each region's setup writes its own
// policy, so the first region's permission stays; the second region makes
// its own key (an SMTP password is derived per region from a secret only
// the first run saw) and keeps the first region's.
func TestSMTPUserTwoRegions(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	first := e.Record.AccessKeyID
	// The second region has its own state file (record) and --out.
	e.Answers.Region, e.Facts.Account.Region = "us-east-1", "us-east-1"
	e.Answers.OutDir = filepath.Join(t.TempDir(), "us-east-1")
	e.Record = &state.Record{}
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		if doc := e.iam.Policy(testUser, ses.SMTPUserPolicyName(region)); !samePolicy(doc, ses.SMTPUserPolicy(region, testAccount, "example.com")) {
			t.Errorf("policy for %s = %q", region, doc)
		}
	}
	keys := e.iam.Keys(testUser)
	if len(keys) != 2 || !slices.Contains(keys, first) || !slices.Contains(keys, e.Record.AccessKeyID) {
		t.Errorf("keys %v, want the first region's %s and the second's %s", keys, first, e.Record.AccessKeyID)
	}
	// An older sesame's single policy still counts for its region, and is
	// left alone when another region is set up.
	e2 := newSMTPEnv(t)
	e2.iam.AddUser(testUser, map[string]string{TagManagedBy: TagManagedByValue})
	e2.iam.SetPolicy(testUser, ses.LegacySMTPUserPolicyName, ses.SMTPUserPolicy("eu-west-1", testAccount, "example.com"))
	if p, err := (SMTPUser{}).Plan(ctx, e2.Env); err != nil || slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Resource == "iam-policy" }) {
		t.Errorf("the legacy policy granting this region is not taken as done: %+v %v", p.Changes, err)
	}
}

func TestSMTPUserPolicyDrift(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	// The same policy, written another way, is no change.
	e.iam.SetPolicy(testUser, ses.SMTPUserPolicyName("eu-west-1"), `{"Statement":[{"Resource":["arn:aws:ses:eu-west-1:123456789012:identity/*","arn:aws:ses:eu-west-1:123456789012:configuration-set/*"],"Condition":{"StringLike":{"ses:FromAddress":["*@example.com"]}},"Action":["ses:SendRawEmail"],"Effect":"Allow","Sid":"SesameSendAsDomain"}],"Version":"2012-10-17"}`)
	if res, _ := (SMTPUser{}).Check(ctx, e.Env); res.Status != StatusDone {
		t.Errorf("an equivalent policy is drift: %s %q", res.Status, res.Detail)
	}
	e.iam.SetPolicy(testUser, ses.SMTPUserPolicyName("eu-west-1"), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:*","Resource":"*"}]}`)
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
	// The state file as it was just after CreateAccessKey answered: the
	// new key's id saved as pending, the password not yet written.
	e.Record.AccessKeyID, e.Record.KeysCreated, e.Record.KeyFiles = "", nil, nil
	e.Record.KeysPending = []state.PendingKey{{ID: key, File: filepath.Join(e.Answers.OutDir, SASLPasswdFile)}}
	before := e.iam.Mutations()
	res, err := SMTPUser{}.Check(ctx, e.Env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check = %s %q %v", res.Status, res.Detail, err)
	}
	if e.iam.Mutations() != before || e.Record.AccessKeyID != key || !slices.Equal(e.Record.KeysCreated, []string{key}) || len(e.Record.KeysPending) != 0 {
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

// A state file written before keys_pending and key_files existed still
// loads, and its keys_created (keys whose password an older sesame wrote)
// are kept as keys that may be in use; the new fields round-trip.
func TestSMTPUserRecordCompatible(t *testing.T) {
	old := `{"schema":1,"account":"123456789012","region":"eu-west-1","domain":"example.com",
	  "answers":{"domain":"example.com","region":"eu-west-1"},
	  "record":{"user_created":true,"access_key_id":"AKIAOLD0000000000001","keys_created":["AKIAOLD0000000000001"],
	    "key_intent":{"user_name":"ses-smtp-example-com","started_at":"2026-01-01T00:00:00Z"},"files":{"sasl_passwd":"/old/out/sasl_passwd"}}}`
	oldStore := state.Store{Dir: t.TempDir()}
	if err := os.WriteFile(oldStore.Path("123456789012", "eu-west-1", "example.com"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	sv, err := oldStore.Load("123456789012", "eu-west-1", "example.com")
	if err != nil || sv == nil {
		t.Fatal(err)
	}
	keys := []accessKey{{ID: "AKIAOLD0000000000001", Active: true, Created: time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)}}
	ks := sortKeys(&sv.Record, true, keys, "", postfix.Target{})
	if len(ks.orphans) != 0 || len(ks.kept) != 1 || !strings.Contains(ks.kept[0].Note, "a sasl_passwd") {
		t.Errorf("an older sesame's written key: %+v, want kept as possibly in use", ks)
	}

	st := state.Store{Dir: t.TempDir()}
	sv.Record.KeysPending = []state.PendingKey{{ID: "AKIANEW0000000000002", File: "/new/out/sasl_passwd"}}
	markWritten(&sv.Record, "AKIANEW0000000000003", "/new/out/sasl_passwd")
	if err := st.Save(sv); err != nil {
		t.Fatal(err)
	}
	back, err := st.Load(sv.Account, sv.Region, sv.Domain)
	if err != nil || !slices.Equal(back.Record.KeysPending, sv.Record.KeysPending) || back.Record.KeyFiles["AKIANEW0000000000003"] != "/new/out/sasl_passwd" ||
		!slices.Equal(back.Record.KeysCreated, []string{"AKIAOLD0000000000001", "AKIANEW0000000000003"}) {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

// The SDK may retry a CreateAccessKey only after throttling: IAM made
// nothing then. A 5xx or a dropped connection may follow a key IAM made.
func TestThrottleOnlyRetryer(t *testing.T) {
	r := throttleOnlyRetryer{retry.NewStandard()}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"throttled", &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}, true},
		{"server error", &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: &smithy.GenericAPIError{Code: "ServiceFailure"}}}, false},
		{"connection reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.IsErrorRetryable(tt.err); got != tt.want {
				t.Errorf("IsErrorRetryable = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := r.GetAttemptToken(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestSMTPUserPolicyUpgrade: a user holding an older sesame's policy (one
// domain identity's ARN, which SES denies in the sandbox and with
// configuration sets) is planned an update to today's document, and in
// GovCloud the document is written in the caller's partition (IAM refuses
// arn:aws: there with MalformedPolicyDocument).
func TestSMTPUserPolicyUpgrade(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, callerARN, region, current, wantPartition string
	}{
		{"old domain-scoped policy", "arn:aws:iam::123456789012:user/ops", "eu-west-1",
			`{"Version":"2012-10-17","Statement":[{"Sid":"SesameSendOnly","Effect":"Allow","Action":"ses:SendRawEmail","Resource":"arn:aws:ses:eu-west-1:123456789012:identity/example.com"}]}`, "aws"},
		{"GovCloud caller", "arn:aws-us-gov:iam::123456789012:user/ops", "us-gov-west-1", "", "aws-us-gov"},
		{"China caller", "arn:aws-cn:sts::123456789012:assumed-role/admin/s", "cn-northwest-1", "", "aws-cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			e.Answers.Region, e.Facts.Account.Region, e.Facts.Account.ARN = tt.region, tt.region, tt.callerARN
			want := ses.SMTPUserPolicyIn(tt.wantPartition, tt.region, testAccount, "example.com")
			if tt.current != "" {
				e.iam.AddUser(testUser, map[string]string{TagManagedBy: TagManagedByValue})
				e.iam.SetPolicy(testUser, ses.SMTPUserPolicyName(tt.region), tt.current)
			}
			p, err := SMTPUser{}.Plan(ctx, e.Env)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.Resource == "iam-policy" })
			wantAction := ActionCreate
			if tt.current != "" {
				wantAction = ActionUpdate
			}
			if i < 0 || p.Changes[i].Action != wantAction || p.Changes[i].Value != want {
				t.Fatalf("plan = %+v, want %s of %s", p.Changes, wantAction, want)
			}
			if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
				t.Fatal(err)
			}
			if got := e.iam.Policy(testUser, ses.SMTPUserPolicyName(tt.region)); !samePolicy(got, want) {
				t.Errorf("policy written = %s, want %s", got, want)
			}
		})
	}
}
