package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// removeOnce takes one remove step through Check, Plan, Apply and the
// Check after, as the runner does, and returns the first and last Check.
func removeOnce(t *testing.T, env *Env, s Step) (first, last Result, plan Plan) {
	t.Helper()
	ctx := context.Background()
	first, err := s.Check(ctx, env)
	if err != nil {
		t.Fatalf("%s Check: %v", s.ID(), err)
	}
	if first.Status != StatusTodo {
		return first, first, Plan{}
	}
	if plan, err = s.Plan(ctx, env); err != nil {
		t.Fatalf("%s Plan: %v", s.ID(), err)
	}
	if err := s.Apply(ctx, env); err != nil {
		t.Fatalf("%s Apply: %v", s.ID(), err)
	}
	if last, err = s.Check(ctx, env); err != nil {
		t.Fatalf("%s Check after Apply: %v", s.ID(), err)
	}
	if last.Status == StatusTodo {
		t.Fatalf("%s still todo after Apply: %s", s.ID(), last.Detail)
	}
	return first, last, plan
}

// The SMTP user serves the domain in two regions (one policy and one key
// each, one saved setup each). Removing one region's setup takes only its
// key and policy; removing the last takes the user. A user without
// sesame's tag is never touched.
func TestRemoveSMTPUser(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// others: the other region's setup is saved (else only its
		// policy on the user tells of it).
		others     bool
		untagged   bool
		wantUser   bool
		wantKeys   int
		wantPolicy []string
		wantStatus Status
	}{
		{name: "another region's saved setup keeps the user, its key and policy", others: true, wantUser: true, wantKeys: 1, wantPolicy: []string{"sesame-ses-send-eu-west-1"}, wantStatus: StatusDone},
		{name: "another region's policy alone keeps the user and the key not recorded here", wantUser: true, wantKeys: 1, wantPolicy: []string{"sesame-ses-send-eu-west-1"}, wantStatus: StatusDone},
		{name: "a user without sesame's tag is left with everything", untagged: true, wantUser: true, wantKeys: 2, wantPolicy: []string{"sesame-ses-send-eu-west-1", "sesame-ses-send-us-east-1"}, wantStatus: StatusSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			if tt.untagged {
				e.iam.AddUser(testUser, nil)
			}
			if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
				t.Fatal(err)
			}
			west := *e.Record
			e.Answers.Region, e.Facts.Account.Region = "us-east-1", "us-east-1"
			e.Answers.OutDir = filepath.Join(t.TempDir(), "us-east-1")
			e.Record = &state.Record{}
			if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
				t.Fatal(err)
			}
			east := e.Record.AccessKeyID
			step := &RemoveSMTPUser{}
			if tt.others {
				step.Saved = func() []*state.Saved {
					return []*state.Saved{
						{Account: testAccount, Region: "eu-west-1", Domain: "example.com", Record: west},
						{Account: testAccount, Region: "us-east-1", Domain: "example.com", Record: *e.Record},
					}
				}
			}
			_, last, _ := removeOnce(t, e.Env, step)
			if last.Status != tt.wantStatus {
				t.Errorf("status %s (%s), want %s", last.Status, last.Detail, tt.wantStatus)
			}
			if got := e.iam.HasUser(testUser); got != tt.wantUser {
				t.Fatalf("user there = %v, want %v", got, tt.wantUser)
			}
			keys := e.iam.Keys(testUser)
			if len(keys) != tt.wantKeys || (!tt.untagged && (slices.Contains(keys, east) || !slices.Contains(keys, west.AccessKeyID))) {
				t.Errorf("keys %v: want %d, the other region's %s kept and this one's %s gone", keys, tt.wantKeys, west.AccessKeyID, east)
			}
			for _, p := range []string{"sesame-ses-send-eu-west-1", "sesame-ses-send-us-east-1"} {
				if has := e.iam.Policy(testUser, p) != ""; has != slices.Contains(tt.wantPolicy, p) {
					t.Errorf("policy %s there = %v", p, has)
				}
			}
			if tt.untagged {
				return
			}
			// The last setup goes: the user goes with everything on it.
			e.Answers.Region, e.Facts.Account.Region = "eu-west-1", "eu-west-1"
			*e.Record = west
			_, last, _ = removeOnce(t, e.Env, &RemoveSMTPUser{})
			if e.iam.HasUser(testUser) || last.Status != StatusDone {
				t.Errorf("after the last setup's remove: user there = %v, %s", e.iam.HasUser(testUser), last.Detail)
			}
		})
	}
}

// A user with an inline policy sesame did not write stays (IAM would
// refuse DeleteUser), and so does a key this setup did not make; this
// setup's key and sesame's policies go.
func TestRemoveSMTPUserKeepsForeignPolicy(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	if err := (SMTPUser{}).Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	e.iam.SetPolicy(testUser, "ops-extra", `{"Version":"2012-10-17","Statement":[]}`)
	theirs, _ := e.iam.AddAccessKey(testUser, e.iam.Now())
	_, last, _ := removeOnce(t, e.Env, &RemoveSMTPUser{})
	if keys := e.iam.Keys(testUser); !e.iam.HasUser(testUser) || !slices.Equal(keys, []string{theirs}) || e.iam.Policy(testUser, "ops-extra") == "" {
		t.Fatalf("user %v keys %v (want only %s) ops-extra %q", e.iam.HasUser(testUser), keys, theirs, e.iam.Policy(testUser, "ops-extra"))
	}
	if e.iam.Policy(testUser, ses.SMTPUserPolicyName("eu-west-1")) != "" {
		t.Error("sesame's policy stayed")
	}
	if !strings.Contains(strings.Join(last.Warnings, " "), "ops-extra") {
		t.Errorf("the kept user is not explained: %+v", last)
	}
}

func TestRemoveIdentity(t *testing.T) {
	ctx := context.Background()
	mxWrite := state.DNSWrite{ZoneID: "Z1", Name: "mail.example.com.", Type: "MX", Created: true, Values: []string{"10 feedback-smtp.eu-west-1.amazonses.com."}}
	tests := []struct {
		name         string
		created      bool
		mailFrom     bool // the identity has MAIL FROM mail.example.com
		sesameMX     bool // sesame created its MX
		wantIdentity bool
		wantMailFrom string
		wantStatus   Status
	}{
		{name: "an identity sesame created goes", created: true, mailFrom: true, sesameMX: true, wantStatus: StatusDone},
		{name: "an identity that existed before stays", wantIdentity: true, wantStatus: StatusSkipped},
		{name: "a pre-existing identity loses only the MAIL FROM whose MX sesame made", mailFrom: true, sesameMX: true, wantIdentity: true, wantStatus: StatusSkipped},
		{name: "a pre-existing identity keeps a MAIL FROM whose MX was the operator's", mailFrom: true, wantIdentity: true, wantMailFrom: "mail.example.com", wantStatus: StatusSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			e.ses.AddIdentity("example.com")
			e.Record.IdentityCreated = tt.created
			e.Answers.MailFrom = "mail"
			if tt.mailFrom {
				if _, err := e.ses.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.com")}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.sesameMX {
				e.Record.DNSWritten = []state.DNSWrite{mxWrite}
			}
			_, last, _ := removeOnce(t, e.Env, RemoveIdentity{})
			if last.Status != tt.wantStatus {
				t.Errorf("status %s (%s), want %s", last.Status, last.Detail, tt.wantStatus)
			}
			if got := e.ses.HasIdentity("example.com"); got != tt.wantIdentity {
				t.Fatalf("identity there = %v, want %v", got, tt.wantIdentity)
			}
			if tt.wantIdentity {
				if mf, _ := e.ses.MailFrom("example.com"); mf != tt.wantMailFrom {
					t.Errorf("MAIL FROM %q, want %q", mf, tt.wantMailFrom)
				}
			}
		})
	}
}

// sasl_passwd loses only sesame's entry (and goes when nothing else is
// left in it); a file that lost sesame's mark is the operator's and stays.
func TestRemoveFiles(t *testing.T) {
	const mine = "AKIAMINE000000000000"
	entry := "[email-smtp.eu-west-1.amazonaws.com]:587 " + mine + ":BSECRET\n"
	other := "[smtp.other-relay.example]:587 user:pass\n"
	tests := []struct {
		name  string
		files map[string]string // name in the dir → contents
		want  map[string]string // what is left; a missing name is gone
	}{
		{
			name: "sesame's own files go",
			files: map[string]string{
				"sasl_passwd":     "# Written by sesame. SES SMTP credentials for Postfix: keep this file 0600.\n" + entry,
				"main.cf.snippet": "# Written by sesame for example.com\nrelayhost = x\n",
			},
			want: map[string]string{},
		},
		{
			name:  "a sasl_passwd shared with another relay keeps the other entry",
			files: map[string]string{"sasl_passwd": "# my relays\n" + other + entry},
			want:  map[string]string{"sasl_passwd": "# my relays\n" + other},
		},
		{
			name:  "a file without sesame's mark stays",
			files: map[string]string{"main.cf.snippet": "# mine now\nrelayhost = x\n"},
			want:  map[string]string{"main.cf.snippet": "# mine now\nrelayhost = x\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMTPEnv(t)
			dir := t.TempDir()
			e.Record.AccessKeyID = mine
			e.Record.Files = map[string]string{}
			roles := map[string]string{"sasl_passwd": postfix.RoleSASLPasswd, "main.cf.snippet": postfix.RoleMainCF}
			for name, data := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
				e.Record.Files[roles[name]] = p
			}
			removeOnce(t, e.Env, &RemoveFiles{})
			for name := range tt.files {
				data, err := os.ReadFile(filepath.Join(dir, name))
				want, keep := tt.want[name]
				switch {
				case !keep && err == nil:
					t.Errorf("%s is still there:\n%s", name, data)
				case keep && string(data) != want:
					t.Errorf("%s = %q, want %q (%v)", name, data, want, err)
				}
			}
		})
	}
}

// The dns step's writes, taken back by remove-dns, leave the zone as it
// was; a setup saved by an older sesame (no DNSWritten) gets back only
// the DKIM CNAMEs of the identity it created, and is told so.
func TestRemoveDNSAfterTheDNSStep(t *testing.T) {
	ctx := context.Background()
	for _, older := range []bool{false, true} {
		fx := newDNSFixture(t, true, state.Answers{MailFrom: "mail", DMARC: true, MailFromAsked: true, DMARCAsked: true})
		before := fx.r53.Sets(fx.zone)
		if err := (DNS{}).Apply(ctx, fx.env); err != nil {
			t.Fatal(err)
		}
		onboarded := fx.r53.Sets(fx.zone)
		if len(fx.env.Record.DNSWritten) != 6 {
			t.Fatalf("the dns step recorded %+v, want its 6 sets", fx.env.Record.DNSWritten)
		}
		if older {
			fx.env.Record.DNSWritten = nil
			fx.env.Record.IdentityCreated = true
		}
		first, _, _ := removeOnce(t, fx.env, RemoveDNS{})
		after := fx.r53.Sets(fx.zone)
		if !older {
			if !slices.Equal(after, before) {
				t.Errorf("after remove-dns:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
			continue
		}
		var want []string
		for _, l := range onboarded {
			if !strings.Contains(l, "._domainkey.") {
				want = append(want, l)
			}
		}
		if !slices.Equal(after, want) {
			t.Errorf("older setup, after remove-dns:\n%s\nwant only the DKIM CNAMEs gone:\n%s", strings.Join(after, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(strings.Join(first.Warnings, " "), "older sesame") {
			t.Errorf("older setup: no warning that the other records are left: %+v", first)
		}
	}
}

// A hosted zone deleted since onboarding holds nothing of sesame's: the
// step is done, and says so.
func TestRemoveDNSZoneGone(t *testing.T) {
	fx := newDNSFixture(t, false, state.Answers{})
	fx.env.Record.DNSWritten = []state.DNSWrite{{ZoneID: "ZGONE", Name: "_dmarc.example.com.", Type: "TXT", Created: true, Values: []string{`"v=DMARC1; p=none;"`}}}
	res, err := (RemoveDNS{}).Check(context.Background(), fx.env)
	if err != nil || res.Status != StatusDone {
		t.Fatalf("Check = %+v, %v; want done", res, err)
	}
	warned := false
	for _, e := range *fx.events {
		warned = warned || (e.Kind == EventWarning && strings.Contains(e.Detail, "ZGONE sesame wrote to is gone"))
	}
	if !warned {
		t.Errorf("no warning that the zone is gone: %+v", *fx.events)
	}
}
