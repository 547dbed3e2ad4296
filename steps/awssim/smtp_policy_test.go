package awssim

import (
	"context"
	"errors"
	"net/textproto"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame-tool/sesame/steps/ses"
)

// TestSMTPUserPolicyEvaluated: every SMTP send is authorized against the
// SMTP user's IAM policy as SES does it (Amazon SES Developer Guide,
// "Identity and access management in Amazon SES"; the 554 text of
// "Troubleshooting SMTP"): the sender's identity, in the sandbox every
// recipient's identity, and the configuration set when one applies. The
// old domain-scoped policy fails exactly where users report it failing;
// sesame's policy (ses.SMTPUserPolicyIn) passes and still keeps the user
// to addresses at its domain in its region.
func TestSMTPUserPolicyEvaluated(t *testing.T) {
	const acct = DefaultAccountID
	arn := func(res string) string { return "arn:aws:ses:us-east-1:" + acct + ":" + res }
	domainOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"` + arn("identity/example.com") + `"}]}`
	sesame := ses.SMTPUserPolicyIn("aws", "us-east-1", acct, "example.com")
	otherRegion := ses.SMTPUserPolicyIn("aws", "eu-west-1", acct, "example.com")
	denyAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ses:*","Resource":"*"}]}`
	msg := func(from, extra string) string {
		return "From: Sender <" + from + ">\r\nTo: someone\r\n" + extra + "Subject: hello\r\n\r\nbody\r\n"
	}
	denied := func(res string) string {
		return "Access denied: User `arn:aws:iam::" + acct + ":user/smtp-user' is not authorized to perform `ses:SendRawEmail' on resource `" + res + "'"
	}
	tests := []struct {
		name       string
		policies   map[string]string
		production bool
		defaultSet string // the sending identity's default configuration set
		from       string
		to         []string
		header     string
		want       string // "" accepted, else the 554 text
	}{
		{"domain-only policy: sandbox send to a verified recipient is denied on the recipient's identity",
			map[string]string{"p": domainOnly}, false, "", "sender@example.com", []string{"verified@example.org"}, "", denied(arn("identity/verified@example.org"))},
		{"sesame's policy: sandbox send to a verified recipient goes through",
			map[string]string{"p": sesame}, false, "", "sender@example.com", []string{"verified@example.org"}, "", ""},
		{"domain-only policy: the mailbox simulator needs no recipient identity",
			map[string]string{"p": domainOnly}, false, "", "sender@example.com", []string{"success@simulator.amazonses.com"}, "", ""},
		{"domain-only policy: the identity's default configuration set is denied",
			map[string]string{"p": domainOnly}, false, "tracking", "sender@example.com", []string{"success@simulator.amazonses.com"}, "", denied(arn("configuration-set/tracking"))},
		{"sesame's policy: the identity's default configuration set is allowed",
			map[string]string{"p": sesame}, false, "tracking", "sender@example.com", []string{"verified@example.org"}, "", ""},
		{"domain-only policy: a configuration set the message names is denied",
			map[string]string{"p": domainOnly}, true, "", "sender@example.com", []string{"a@customer.example"}, "X-SES-CONFIGURATION-SET: other\r\n", denied(arn("configuration-set/other"))},
		{"sesame's policy: a configuration set the message names is allowed",
			map[string]string{"p": sesame}, true, "", "sender@example.com", []string{"a@customer.example"}, "X-SES-CONFIGURATION-SET: other\r\n", ""},
		{"domain-only policy: an address identity at the domain is its own resource",
			map[string]string{"p": domainOnly}, true, "", "alice@example.com", []string{"a@customer.example"}, "", denied(arn("identity/alice@example.com"))},
		{"sesame's policy: an address identity at the domain is allowed",
			map[string]string{"p": sesame}, true, "", "alice@example.com", []string{"a@customer.example"}, "", ""},
		{"sesame's policy: sending as another verified identity of the account is denied",
			map[string]string{"p": sesame}, false, "", "verified@example.org", []string{"verified@example.org"}, "", denied(arn("identity/verified@example.org"))},
		{"sesame's policy for another region does not send in this one",
			map[string]string{"p": otherRegion}, true, "", "sender@example.com", []string{"a@customer.example"}, "", denied(arn("identity/example.com"))},
		{"production: any recipient, only the sender's identity is checked",
			map[string]string{"p": sesame}, true, "", "sender@example.com", []string{"a@customer.example", "b@customer.example"}, "", ""},
		{"no policy: nothing is allowed",
			nil, true, "", "sender@example.com", []string{"a@customer.example"}, "", denied(arn("identity/example.com"))},
		{"an explicit Deny wins over sesame's Allow",
			map[string]string{"p": sesame, "d": denyAll}, true, "", "sender@example.com", []string{"a@customer.example"}, "", denied(arn("identity/example.com"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSMTPHarness(t, Options{Production: tt.production}, SMTPConfig{})
			ctx := context.Background()
			if _, err := h.client("us-east-1").CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("alice@example.com")}); err != nil {
				t.Fatal(err)
			}
			h.sim.mu.Lock()
			h.sim.iam.users["smtp-user"].Policies = tt.policies
			h.sim.sesRegionFor("us-east-1").identities["example.com"].ConfigSet = tt.defaultSet
			h.sim.mu.Unlock()
			err := send(h.login(t), tt.from, tt.to, msg(tt.from, tt.header))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				return
			}
			var pe *textproto.Error
			if !errors.As(err, &pe) || pe.Code != 554 || pe.Msg != tt.want {
				t.Fatalf("send: %v\nwant: 554 %s", err, tt.want)
			}
			if n := len(h.sim.Messages()); n != 0 {
				t.Errorf("%d messages recorded after a denial", n)
			}
		})
	}
}

// TestIAMRefusesAnotherPartition: IAM in GovCloud refuses a policy whose
// resources are written arn:aws: (IAM User Guide, "IAM identifiers", "IAM
// ARNs"), which is why sesame takes the partition from the caller's ARN.
func TestIAMRefusesAnotherPartition(t *testing.T) {
	tests := []struct {
		region, doc, wantCode string
	}{
		{"us-gov-west-1", ses.SMTPUserPolicyIn("aws", "us-gov-west-1", DefaultAccountID, "example.com"), "MalformedPolicyDocument"},
		{"us-gov-west-1", ses.SMTPUserPolicyIn("aws-us-gov", "us-gov-west-1", DefaultAccountID, "example.com"), ""},
		{"us-east-1", ses.SMTPUserPolicyIn("aws", "us-east-1", DefaultAccountID, "example.com"), ""},
		{"us-east-1", ses.SMTPUserPolicyIn("aws-us-gov", "us-east-1", DefaultAccountID, "example.com"), "MalformedPolicyDocument"},
	}
	for _, tt := range tests {
		t.Run(tt.region+" "+tt.wantCode, func(t *testing.T) {
			sim := New(Options{})
			form := map[string][]string{"UserName": {"u"}, "PolicyName": {"p"}, "PolicyDocument": {tt.doc}}
			sim.mu.Lock()
			_, _ = sim.createUser("u", "/", nil)
			_, ae := sim.iamPutUserPolicy(&request{Service: "iam", Region: tt.region, Form: form})
			sim.mu.Unlock()
			got := ""
			if ae != nil {
				got = ae.code
			}
			if got != tt.wantCode {
				t.Fatalf("PutUserPolicy in %s: %v, want %q", tt.region, ae, tt.wantCode)
			}
			if ae != nil && !strings.Contains(ae.message, `Partition "`) {
				t.Errorf("message %q does not name the partition", ae.message)
			}
		})
	}
}
