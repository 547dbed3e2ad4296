package steps

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/stepstest"
)

func TestIdentityFromEmpty(t *testing.T) {
	ctx := context.Background()
	e := newSMTPEnv(t)
	s := Identity{}
	res, err := s.Check(ctx, e.Env)
	if err != nil || res.Status != StatusTodo {
		t.Fatalf("Check = %s %v", res.Status, err)
	}
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	res, err = s.Check(ctx, e.Env)
	if err != nil || res.Status != StatusDone || !strings.Contains(res.Detail, "not verified yet") {
		t.Fatalf("Check after Apply = %s %q %v", res.Status, res.Detail, err)
	}
	id := e.Facts.Identity
	if id == nil || len(id.Tokens) != 3 || id.SigningHostedZone != "dkim.amazonses.com" || id.DKIMStatus != "PENDING" {
		t.Errorf("identity fact = %+v", id)
	}
	if e.ses.KeyLength("example.com") != string(sestypes.DkimSigningKeyLengthRsa2048Bit) {
		t.Errorf("key length %q, want RSA_2048_BIT", e.ses.KeyLength("example.com"))
	}
	if !e.Record.IdentityCreated {
		t.Error("Record.IdentityCreated not set")
	}
	before := e.ses.Mutations()
	if err := s.Apply(ctx, e.Env); err != nil {
		t.Fatal(err)
	}
	if e.ses.Mutations() != before {
		t.Error("a second Apply changed SES")
	}
	e.ses.SetIdentityStatus("example.com", true, "SUCCESS")
	if res, _ := s.Check(ctx, e.Env); !strings.Contains(res.Detail, "verified for sending") {
		t.Errorf("verified detail = %q", res.Detail)
	}
}

func TestIdentityRaceAndErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("already exists race", func(t *testing.T) {
		e := newSMTPEnv(t)
		e.ses.SetBefore(func(f *stepstest.FakeSES, op string) {
			if op == "CreateEmailIdentity" {
				f.AddIdentity("example.com")
			}
		})
		if err := (Identity{}).Apply(ctx, e.Env); err != nil {
			t.Fatalf("AlreadyExists race: %v", err)
		}
		if e.Record.IdentityCreated || e.Facts.Identity == nil {
			t.Errorf("record %+v, fact %+v", e.Record, e.Facts.Identity)
		}
	})
	t.Run("denied", func(t *testing.T) {
		e := newSMTPEnv(t)
		e.ses.FailNext("CreateEmailIdentity", stepstest.AccessDenied("ses:CreateEmailIdentity"))
		err := (Identity{}).Apply(ctx, e.Env)
		if err == nil || !strings.Contains(err.Error(), "ses:CreateEmailIdentity on arn:aws:ses:eu-west-1:123456789012:identity/example.com") || !strings.Contains(err.Error(), "sesame policy") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("regional DKIM zone fallback", func(t *testing.T) {
		e := newSMTPEnv(t)
		e.Answers.Region = "eu-central-2"
		e.ses = e.ses.InRegion("eu-central-2")
		e.Clients.SES = e.ses
		e.ses.SetSigningHostedZone("") // an API that does not say
		if err := (Identity{}).Apply(ctx, e.Env); err != nil {
			t.Fatal(err)
		}
		if z := e.Facts.Identity.SigningHostedZone; z != "dkim.eu-central-2.amazonses.com" {
			t.Errorf("zone = %q", z)
		}
	})
}

func TestIdentityFailedNeedsConsent(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		confirm   *bool
		wantCheck Status
		wantErr   error
		recreated bool
	}{
		{name: "no-input without the flag fails", opts: Options{NoInput: true}, wantCheck: StatusFailed},
		{name: "flag", opts: Options{NoInput: true, RecreateIdentity: true}, wantCheck: StatusTodo, recreated: true},
		{name: "asked, yes", opts: Options{}, confirm: ptrTo(true), wantCheck: StatusTodo, recreated: true},
		{name: "asked, no", opts: Options{}, confirm: ptrTo(false), wantCheck: StatusTodo, wantErr: ErrDeclined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSMTPEnv(t)
			e.Options = tt.opts
			old := e.ses.AddIdentity("example.com")
			e.ses.SetIdentityStatus("example.com", false, "FAILED")
			e.ses.SetVerificationError("example.com", "HOST_NOT_FOUND")
			if tt.confirm != nil {
				e.prompt.confirm["recreate-identity"] = *tt.confirm
			}
			res, err := Identity{}.Check(ctx, e.Env)
			if err != nil || res.Status != tt.wantCheck || !strings.Contains(res.Detail, "72 hours") || !strings.Contains(res.Detail, "HOST_NOT_FOUND") {
				t.Fatalf("Check = %s %q %v", res.Status, res.Detail, err)
			}
			if res.Status == StatusFailed {
				return
			}
			p, err := Identity{}.Plan(ctx, e.Env)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || e.ses.Mutations() != 0 {
					t.Fatalf("Plan err = %v, mutations %d", err, e.ses.Mutations())
				}
				return
			}
			if err != nil || len(p.Changes) != 2 || p.Changes[0].Action != ActionDelete {
				t.Fatalf("Plan = %+v %v", p.Changes, err)
			}
			if err := (Identity{}).Apply(ctx, e.Env); err != nil {
				t.Fatal(err)
			}
			nt := e.ses.Tokens("example.com")
			if e.ses.Calls("DeleteEmailIdentity") != 1 || len(nt) != 3 || nt[0] == old[0] {
				t.Errorf("not re-created: deletes %d, tokens %v (old %v)", e.ses.Calls("DeleteEmailIdentity"), nt, old)
			}
			// A yes given when asked is a decision of this run: the
			// operator's switches stay as given.
			if !reflect.DeepEqual(e.Options, tt.opts) || e.Decisions.RecreateIdentity != (tt.confirm != nil) {
				t.Errorf("options %+v (given %+v), decisions %+v", e.Options, tt.opts, e.Decisions)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// One mapping of SES's identity answer serves the identity step's reads,
// its CreateEmailIdentity answer and verification's polls.
func TestIdentityFromGet(t *testing.T) {
	tests := []struct {
		name string
		out  sesv2.GetEmailIdentityOutput
		want IdentityInfo
	}{
		{name: "nothing but the status: the region's DKIM zone",
			out:  sesv2.GetEmailIdentityOutput{VerificationStatus: sestypes.VerificationStatusPending},
			want: IdentityInfo{Domain: "example.com", VerificationStatus: "PENDING", SigningHostedZone: "dkim.amazonses.com"}},
		{name: "everything",
			out: sesv2.GetEmailIdentityOutput{
				VerificationStatus: sestypes.VerificationStatusFailed, VerifiedForSendingStatus: true,
				DkimAttributes:     &sestypes.DkimAttributes{Status: sestypes.DkimStatusFailed, Tokens: []string{"a", "b", "c"}, SigningHostedZone: aws.String("dkim.eu-central-2.amazonses.com")},
				MailFromAttributes: &sestypes.MailFromAttributes{MailFromDomain: aws.String("mail.example.com"), MailFromDomainStatus: sestypes.MailFromDomainStatusPending},
				VerificationInfo:   &sestypes.VerificationInfo{ErrorType: sestypes.VerificationErrorHostNotFound},
			},
			want: IdentityInfo{Domain: "example.com", VerificationStatus: "FAILED", VerifiedForSending: true, DKIMStatus: "FAILED",
				Tokens: []string{"a", "b", "c"}, SigningHostedZone: "dkim.eu-central-2.amazonses.com",
				MailFromDomain: "mail.example.com", MailFromStatus: "PENDING", ErrorType: "HOST_NOT_FOUND"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identityFromGet("example.com", "eu-west-1", &tt.out); !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}
