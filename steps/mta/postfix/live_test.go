package postfix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

// TestLiveSendPolicy: the live-policy finding from IAM's simulation of
// ses:SendRawEmail for the SMTP user on the domain's identity in the relay
// host's region: allowed is ok; an explicit or implicit deny is broken with
// SES's 554 and the fix (remove the Deny; attach sesame's policy for that
// region, by the wizard or the exact aws command); a simulation that needs
// condition keys doctor cannot give, or a refused call, is a warning that
// says so.
func TestLiveSendPolicy(t *testing.T) {
	const (
		user    = "ses-smtp-example-com"
		userARN = "arn:aws:iam::123456789012:user/" + user
		region  = "us-east-1"
	)
	identity := "arn:aws:ses:us-east-1:123456789012:identity/example.com"
	d := Diagnosis{RelayHost: "[email-smtp.us-east-1.amazonaws.com]:587",
		Installed: &mta.Credentials{Host: ses.SMTPHost(region), Port: 587, Username: doctorKey, Password: "BPW"}}
	// allowedIn answers as IAM does for a user whose policy allows sending
	// only in one region.
	allowedIn := func(allowed string) func(context.Context, string, string, string, string) (SendCheck, error) {
		return func(_ context.Context, u, r, domain, from string) (SendCheck, error) {
			if u != user || domain != "example.com" || from != "postmaster@example.com" {
				t.Errorf("asked about %s sending as %s from %s", u, domain, from)
			}
			c := SendCheck{UserARN: userARN, Resource: IdentityARN(userARN, r, domain), Decision: DecisionImplicitDeny}
			if r == allowed {
				c.Decision = DecisionAllowed
			}
			return c, nil
		}
	}
	answer := func(c SendCheck, err error) func(context.Context, string, string, string, string) (SendCheck, error) {
		return func(context.Context, string, string, string, string) (SendCheck, error) { return c, err }
	}
	sesamePolicy := "aws iam put-user-policy --user-name " + user + " --policy-name sesame-ses-send-us-east-1 --policy-document '" +
		ses.SMTPUserPolicyIn("aws", region, "123456789012", "example.com") + "'"
	refused := "554 Access denied: User `" + userARN + "' is not authorized to perform `ses:SendRawEmail' on resource `" + identity + "'"
	cases := []struct {
		name    string
		policy  func(context.Context, string, string, string, string) (SendCheck, error)
		want    Severity
		summary []string
		fix     []string
	}{
		{"allowed", allowedIn(region), SeverityOK,
			[]string{"IAM user " + user + " may send as example.com in us-east-1"}, nil},
		{"allowed only in another region", allowedIn("eu-west-1"), SeverityBroken,
			[]string{"no policy of IAM user " + user + " allows ses:SendRawEmail on example.com in us-east-1", refused},
			[]string{"sesame --domain example.com --region us-east-1 --smtp-user " + user, sesamePolicy}},
		{"implicit deny", answer(SendCheck{UserARN: userARN, Resource: identity, Decision: DecisionImplicitDeny}, nil), SeverityBroken,
			[]string{refused}, []string{sesamePolicy}},
		{"explicit deny", answer(SendCheck{UserARN: userARN, Resource: identity, Decision: DecisionExplicitDeny}, nil), SeverityBroken,
			[]string{"denies ses:SendRawEmail", refused}, []string{"remove that Deny", "aws iam list-user-policies --user-name " + user}},
		{"denied under conditions doctor cannot give", answer(SendCheck{UserARN: userARN, Resource: identity, Decision: DecisionImplicitDeny, Missing: []string{"ses:Recipients"}}, nil), SeverityWarning,
			[]string{"only under conditions on ses:Recipients"}, []string{sesamePolicy}},
		{"the simulation call denied", answer(SendCheck{}, &DeniedError{Action: "iam:SimulatePrincipalPolicy", Err: errors.New("iam:SimulatePrincipalPolicy on " + user + " failed: AccessDenied")}), SeverityWarning,
			[]string{"could not be checked", "may not call iam:SimulatePrincipalPolicy"}, []string{"grant it iam:SimulatePrincipalPolicy", "sesame policy"}},
		{"the user's ARN refused", answer(SendCheck{}, fmt.Errorf("reading the user: %w", &DeniedError{Action: "iam:GetUser", Err: errors.New("AccessDenied")})), SeverityWarning,
			[]string{"may not call iam:GetUser"}, []string{"grant it iam:GetUser"}},
		{"AWS failing", answer(SendCheck{}, errors.New("iam:SimulatePrincipalPolicy failed: ServiceFailure")), SeverityWarning,
			[]string{"could not be checked: iam:SimulatePrincipalPolicy failed: ServiceFailure"}, []string{"again"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got *Finding
			for _, f := range Live(context.Background(), d, LiveAPI{SendPolicy: c.policy}, LiveOptions{Domain: "example.com", User: user}) {
				if f.ID == "live-policy" {
					got = &f
				}
			}
			if got == nil {
				t.Fatal("no live-policy finding")
			}
			if got.Severity != c.want {
				t.Errorf("severity %s, want %s: %s", got.Severity, c.want, got.Summary)
			}
			for _, s := range c.summary {
				if !strings.Contains(got.Summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, got.Summary)
				}
			}
			for _, s := range c.fix {
				if !strings.Contains(got.Fix, s) {
					t.Errorf("fix lacks %q:\n%s", s, got.Fix)
				}
			}
			if (c.want == SeverityOK) != (got.Fix == "") {
				t.Errorf("fix %q for a %s finding", got.Fix, got.Severity)
			}
		})
	}
	t.Run("without a domain or user nothing is asked", func(t *testing.T) {
		api := LiveAPI{SendPolicy: func(context.Context, string, string, string, string) (SendCheck, error) {
			t.Error("SendPolicy called without a domain")
			return SendCheck{}, nil
		}}
		Live(context.Background(), d, api, LiveOptions{User: user})
	})
}

// TestIdentityARN: the identity ARN is in the SMTP user's partition and
// account and the relay host's region.
func TestIdentityARN(t *testing.T) {
	for _, c := range []struct{ user, region, want string }{
		{"arn:aws:iam::123456789012:user/ses-smtp-example-com", "eu-west-1", "arn:aws:ses:eu-west-1:123456789012:identity/example.com"},
		{"arn:aws-us-gov:iam::210987654321:user/path/smtp", "us-gov-west-1", "arn:aws-us-gov:ses:us-gov-west-1:210987654321:identity/example.com"},
	} {
		if got := IdentityARN(c.user, c.region, "example.com"); got != c.want {
			t.Errorf("IdentityARN(%s, %s) = %s, want %s", c.user, c.region, got, c.want)
		}
	}
}
