package steps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sesame-tool/sesame/steps/ses"
)

// Without a saved setup, remove only looks: nothing of sesame's left is
// done with the line that says so; a tagged user holding this region's
// policy is an input error naming --state-dir; an untagged user, a user
// left for another region's setup and an identity (which carries no
// mark of its maker) are no reason to stop. Nothing is ever written.
func TestRemoveUnsaved(t *testing.T) {
	const line = "nothing of sesame's is left for example.com in account 123456789012/region eu-west-1"
	tests := []struct {
		name string
		// user: "" none, else its tags and its policies.
		user     bool
		tagged   bool
		policies []string
		identity bool
		wantErr  string // the verdict's error, "" for the line
		wantText string // in the verdict or the steps' details
	}{
		{name: "nothing left", wantText: "there is no IAM user ses-smtp-example-com"},
		{name: "sesame's user with this region's policy stops it", user: true, tagged: true, policies: []string{ses.SMTPUserPolicyName("eu-west-1")}, wantErr: "--state-dir"},
		{name: "sesame's user with the legacy policy stops it", user: true, tagged: true, policies: []string{ses.LegacySMTPUserPolicyName}, wantErr: "ses-smtp-example-com, tagged managed-by=sesame"},
		{name: "sesame's user kept for another region is not this setup's", user: true, tagged: true, policies: []string{ses.SMTPUserPolicyName("us-east-1")}, wantText: "stays for the setup in us-east-1"},
		{name: "a user without sesame's tag is not sesame's", user: true, policies: []string{ses.SMTPUserPolicyName("eu-west-1")}, wantText: "has no managed-by=sesame tag"},
		{name: "an identity cannot be told, and is left", identity: true, wantText: "identities carry no mark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSMTPEnv(t)
			if tt.user {
				tags := map[string]string{}
				if tt.tagged {
					tags[TagManagedBy] = TagManagedByValue
				}
				e.iam.AddUser(testUser, tags)
				for _, p := range tt.policies {
					if _, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(testUser), PolicyName: aws.String(p), PolicyDocument: aws.String("{}")}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tt.identity {
				e.ses.AddIdentity("example.com")
			}
			writes := e.iam.Mutations() + e.ses.Mutations()
			u := &RemoveUnsaved{On: true}
			all := RemoveSteps(u, &RemovePostfix{}, &RemoveFiles{}, &RemoveSMTPUser{}, &RemoveState{Exists: func() bool { return false }})[1:]
			var details []string
			var verdict Result
			var err error
			for _, s := range all {
				verdict, err = s.Check(ctx, e.Env)
				if err != nil {
					break
				}
				if verdict.Status == StatusTodo || verdict.Status == StatusPending {
					t.Errorf("%s = %s without a saved setup: %s", s.ID(), verdict.Status, verdict.Detail)
				}
				details = append(details, verdict.Detail)
			}
			var ie *InputError
			switch {
			case tt.wantErr != "":
				if !errors.As(err, &ie) || ie.Flag != "--state-dir" || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("verdict error = %v, want an input error naming --state-dir and %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("census: %v", err)
			case verdict.Status != StatusDone || !strings.HasPrefix(verdict.Detail, line):
				t.Fatalf("verdict = %s %q, want done with %q", verdict.Status, verdict.Detail, line)
			}
			if all := strings.Join(details, "\n"); tt.wantText != "" && !strings.Contains(all, tt.wantText) {
				t.Errorf("the census does not say %q:\n%s", tt.wantText, all)
			}
			if n := e.iam.Mutations() + e.ses.Mutations(); n != writes {
				t.Errorf("the census wrote %d times", n-writes)
			}
		})
	}
}
