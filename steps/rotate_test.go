package steps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/internal/fakeclock"
	"github.com/sesame-tool/sesame/steps/internal/smtptest"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

const rotUser = "ses-smtp-example-com"

// rotFixture is an onboarded setup: a user sesame made with one key whose
// password is in sasl_passwd, an SES-like SMTP server that accepts the
// keys the test lets in, and the rotation's steps.
type rotFixture struct {
	iam   *stepstest.FakeIAM
	srv   *smtptest.Server
	env   *Env
	clock *fakeclock.Clock
	out   string
	old   string
	// accept: every key of the user logs in (registered with the SMTP
	// server whenever sesame lists the keys, as SES learns new keys).
	accept bool
}

func newRotFixture(t *testing.T, tags map[string]string) *rotFixture {
	t.Helper()
	f := &rotFixture{iam: stepstest.NewFakeIAM("123456789012"), srv: smtptest.New(t, false), out: filepath.Join(t.TempDir(), "out"), clock: fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), accept: true}
	f.iam.Now = f.clock.Now
	f.iam.AddUser(rotUser, tags)
	var secret string
	f.old, secret = f.iam.AddAccessKey(rotUser, f.clock.Now().Add(-120*24*time.Hour))
	f.writeKey(t, f.old, secret)
	f.iam.Before = func(fi *stepstest.FakeIAM, op string) {
		if op == "ListAccessKeys" && f.accept {
			for _, id := range fi.Keys(rotUser) {
				f.srv.AddUser(id, ses.SMTPPassword(fi.Secret(id), "us-east-1"))
			}
		}
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, f.srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	f.env = NewEnv(awsapi.Clients{IAM: f.iam}, &state.Answers{Domain: "example.com", Region: "us-east-1", OutDir: f.out, SMTPUser: rotUser},
		Options{Yes: true, NoInput: true, SMTPEndpoint: f.srv.Addr, SMTPCA: ca})
	f.env.Clock = f.clock
	f.env.Facts.Account = &AccountInfo{ID: "123456789012"}
	f.env.Record.KeysCreated = []string{f.old}
	return f
}

// writeKey writes key id's password into sasl_passwd, as sesame would.
func (f *rotFixture) writeKey(t *testing.T, id, secret string) {
	t.Helper()
	if _, err := postfix.WriteSASLPasswd(f.out, mta.Credentials{Host: ses.SMTPHost("us-east-1"), Port: 587, Username: id,
		Password: mta.Secret(ses.SMTPPassword(secret, "us-east-1"))}); err != nil {
		t.Fatal(err)
	}
}

func (f *rotFixture) run(grace time.Duration) error {
	r := &rotation{RotateOptions: RotateOptions{Grace: grace}}
	_, err := (&Runner{Steps: []Step{&RotateKey{r: r}, &RetireKey{r: r}}}).Run(context.Background(), f.env)
	return err
}

func (f *rotFixture) diskKey(t *testing.T) string {
	t.Helper()
	e, err := postfix.ReadSASLPasswdFor(f.out, ses.SMTPHost("us-east-1"), 587)
	if err != nil {
		t.Fatal(err)
	}
	return e.Username
}

// converged checks that the user has one key, active, the one on disk,
// and that no rotation is left in the record.
func (f *rotFixture) converged(t *testing.T) string {
	t.Helper()
	keys := f.iam.Keys(rotUser)
	if len(keys) != 1 || keys[0] != f.diskKey(t) || keys[0] == f.old {
		t.Fatalf("keys %v, on disk %s, old %s: want one new key, the one on disk", keys, f.diskKey(t), f.old)
	}
	if f.env.Record.Rotation != nil || f.env.Record.AccessKeyID != keys[0] || slices.Contains(f.env.Record.KeysCreated, f.old) {
		t.Fatalf("record after the rotation: %+v", f.env.Record)
	}
	return keys[0]
}

func TestRotate(t *testing.T) {
	managed := map[string]string{TagManagedBy: TagManagedByValue}
	tests := []struct {
		name  string
		tags  map[string]string
		setup func(t *testing.T, f *rotFixture)
		grace time.Duration
		// check runs after the run with its error.
		check func(t *testing.T, f *rotFixture, err error)
	}{
		{"a rotation leaves one key, the new one, on disk, with the old file backed up", managed, nil, 0, func(t *testing.T, f *rotFixture, err error) {
			if err != nil {
				t.Fatal(err)
			}
			f.converged(t)
			backups, _ := filepath.Glob(filepath.Join(f.out, "sasl_passwd.sesame-*"))
			if len(backups) != 1 || !strings.Contains(readText(t, backups[0]), f.old) {
				t.Errorf("backups %v, want one holding %s", backups, f.old)
			}
			if f.iam.Calls("UpdateAccessKey") != 1 || f.iam.Calls("CreateAccessKey") != 1 || f.iam.Calls("DeleteAccessKey") != 1 {
				t.Errorf("create %d, update %d, delete %d: want one each", f.iam.Calls("CreateAccessKey"), f.iam.Calls("UpdateAccessKey"), f.iam.Calls("DeleteAccessKey"))
			}
		}},
		{"a login the new key never passes rolls back to the old key and says why", managed, func(t *testing.T, f *rotFixture) {
			f.accept = false
			f.srv.AddUser(f.old, "whatever") // the old key is not what is tested
		}, 0, func(t *testing.T, f *rotFixture, err error) {
			if err == nil || !strings.Contains(err.Error(), "login test failed") || !strings.Contains(err.Error(), "rolled back to key "+f.old) {
				t.Fatalf("err = %v, want the failed login and the rollback", err)
			}
			if keys := f.iam.Keys(rotUser); !slices.Equal(keys, []string{f.old}) || f.diskKey(t) != f.old || f.env.Record.Rotation != nil {
				t.Fatalf("after the rollback: keys %v, on disk %s, rotation %+v; want only %s everywhere", keys, f.diskKey(t), f.env.Record.Rotation, f.old)
			}
			if f.iam.Calls("UpdateAccessKey") != 0 {
				t.Error("the old key was deactivated although the new one never logged in")
			}
		}},
		{"a run killed between CreateAccessKey and the password write: the unusable key is deleted, one new key made", managed, func(t *testing.T, f *rotFixture) {
			lost, _ := f.iam.AddAccessKey(rotUser, f.clock.Now())
			f.env.Record.Rotation = &state.Rotation{UserName: rotUser, OldKey: f.old, NewKey: lost, Phase: state.RotateWrite, StartedAt: f.clock.Now()}
			f.env.Record.KeysPending = []state.PendingKey{{ID: lost, File: filepath.Join(f.out, "sasl_passwd")}}
		}, 0, func(t *testing.T, f *rotFixture, err error) {
			if err != nil {
				t.Fatal(err)
			}
			f.converged(t)
			if f.iam.Calls("CreateAccessKey") != 1 || f.iam.Calls("DeleteAccessKey") != 2 {
				t.Errorf("create %d, delete %d: want the lost key and the old one deleted, one key made", f.iam.Calls("CreateAccessKey"), f.iam.Calls("DeleteAccessKey"))
			}
		}},
		{"a run killed while deactivating the old key continues with its deletion", managed, func(t *testing.T, f *rotFixture) {
			id, secret := f.iam.AddAccessKey(rotUser, f.clock.Now())
			f.writeKey(t, id, secret)
			f.iam.SetKeyStatus(f.old, iamtypes.StatusTypeInactive)
			f.env.Record.Rotation = &state.Rotation{UserName: rotUser, OldKey: f.old, NewKey: id, Phase: state.RotateDeactivate, StartedAt: f.clock.Now()}
			f.env.Record.KeysCreated = append(f.env.Record.KeysCreated, id)
		}, 0, func(t *testing.T, f *rotFixture, err error) {
			if err != nil {
				t.Fatal(err)
			}
			f.converged(t)
			if f.iam.Calls("CreateAccessKey") != 0 {
				t.Error("a second new key was made")
			}
		}},
		{"a second key sesame cannot prove it made stops the rotation, naming --replace-key", managed, func(t *testing.T, f *rotFixture) {
			f.iam.AddAccessKey(rotUser, f.clock.Now())
		}, 0, func(t *testing.T, f *rotFixture, err error) {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Flag != "--replace-key" || f.iam.Mutations() != 0 {
				t.Fatalf("err = %v (mutations %d), want an InputError naming --replace-key and no change", err, f.iam.Mutations())
			}
		}},
		{"a second key named with --replace-key is deleted first", managed, func(t *testing.T, f *rotFixture) {
			other, _ := f.iam.AddAccessKey(rotUser, f.clock.Now())
			f.env.Options.ReplaceKeys = []string{other}
		}, 0, func(t *testing.T, f *rotFixture, err error) {
			if err != nil {
				t.Fatal(err)
			}
			f.converged(t)
		}},
		{"a Postfix sesame installed into that cannot be reloaded from here stops the rotation before any change", managed, func(t *testing.T, f *rotFixture) {
			f.env.Record.PostfixDir = filepath.Join(t.TempDir(), "no-postfix-here")
		}, 0, func(t *testing.T, f *rotFixture, err error) {
			if err == nil || !strings.Contains(err.Error(), "no-postfix-here") || f.iam.Mutations() != 0 {
				t.Fatalf("err = %v, mutations %d; want the Postfix named and no change", err, f.iam.Mutations())
			}
		}},
		{"a user sesame did not make is not rotated", nil, nil, 0, func(t *testing.T, f *rotFixture, err error) {
			if err == nil || !strings.Contains(err.Error(), "not made by sesame") || f.iam.Mutations() != 0 {
				t.Fatalf("err = %v, mutations %d; want a refusal and no change", err, f.iam.Mutations())
			}
		}},
		{"with --grace the old key stays inactive (exit 3) and a run after the grace deletes it", managed, nil, 24 * time.Hour, func(t *testing.T, f *rotFixture, err error) {
			var pe *PendingError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want pending", err)
			}
			if keys := f.iam.Keys(rotUser); len(keys) != 2 || f.diskKey(t) == f.old {
				t.Fatalf("during the grace: keys %v, on disk %s", keys, f.diskKey(t))
			}
			f.clock.After(25 * time.Hour)
			r := &rotation{RotateOptions: RotateOptions{Grace: 24 * time.Hour}}
			if _, err := (&Runner{Steps: []Step{&RotateKey{r: r}, &RetireKey{r: r}}}).Run(context.Background(), f.env); err != nil {
				t.Fatal(err)
			}
			f.converged(t)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRotFixture(t, tt.tags)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			tt.check(t, f, f.run(tt.grace))
		})
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestKeyAge(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		age  time.Duration
		warn bool
	}{
		{10 * 24 * time.Hour, false},
		{90 * 24 * time.Hour, false},
		{91 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		detail, warning := KeyAge("AKIAEXAMPLE", now.Add(-tt.age), now)
		if !strings.Contains(detail, "AKIAEXAMPLE") || (warning != "") != tt.warn || (tt.warn && !strings.Contains(warning, "sesame rotate")) {
			t.Errorf("age %s: detail %q, warning %q", tt.age, detail, warning)
		}
	}
}

// The smtp-user step's Check (and so `sesame status`) tells the key's
// age, and past 90 days warns, naming `sesame rotate`.
func TestSMTPUserCheckTellsKeyAge(t *testing.T) {
	tests := []struct {
		after    time.Duration
		wantAge  string
		wantWarn bool
	}{
		{2 * 24 * time.Hour, "(2 days ago)", false},
		{100 * 24 * time.Hour, "(100 days ago)", true},
	}
	for _, tt := range tests {
		ctx := context.Background()
		e := newSMTPEnv(t)
		clock := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		e.Clock, e.iam.Now = clock, clock.Now
		s := SMTPUser{}
		if err := s.Apply(ctx, e.Env); err != nil {
			t.Fatal(err)
		}
		clock.After(tt.after)
		res, err := s.Check(ctx, e.Env)
		if err != nil || res.Status != StatusDone || !strings.Contains(res.Detail, tt.wantAge) {
			t.Fatalf("after %s: Check = %v %q %v, want done with the age %s", tt.after, res.Status, res.Detail, err, tt.wantAge)
		}
		warned := slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "sesame rotate") })
		if warned != tt.wantWarn || strings.Contains(res.Detail, "sesame rotate") != tt.wantWarn {
			t.Errorf("after %s: warnings %q, want a warning naming sesame rotate: %v", tt.after, res.Warnings, tt.wantWarn)
		}
	}
}
