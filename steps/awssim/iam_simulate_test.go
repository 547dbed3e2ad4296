package awssim

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/sesame-tool/sesame/steps/ses"
)

// TestSimulatePrincipalPolicy: IAM's policy simulator answers, for a
// user's inline policies, the decision the sim's SES applies to an SMTP
// send (the same evaluator), in the documented shape read back by the SDK:
// one EvaluationResult per action, one ResourceSpecificResult per
// resource, the deciding policies in MatchedStatements, the condition keys
// not given in MissingContextValues; an unknown user is NoSuchEntity.
func TestSimulatePrincipalPolicy(t *testing.T) {
	const acct = DefaultAccountID
	identity := "arn:aws:ses:us-east-1:" + acct + ":identity/example.com"
	from := []iamtypes.ContextEntry{{ContextKeyName: aws.String("ses:FromAddress"), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{"postmaster@example.com"}}}
	denySend := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ses:Send*","Resource":"*"}}`
	tests := []struct {
		name     string
		policies map[string]string
		context  []iamtypes.ContextEntry
		want     iamtypes.PolicyEvaluationDecisionType
		matched  []string
		missing  []string
	}{
		{"sesame's policy for the region, From at the domain: allowed",
			map[string]string{"send": ses.SMTPUserPolicyIn("aws", "us-east-1", acct, "example.com")}, from,
			iamtypes.PolicyEvaluationDecisionTypeAllowed, []string{"send"}, nil},
		{"sesame's policy for another region: implicitly denied",
			map[string]string{"send": ses.SMTPUserPolicyIn("aws", "eu-west-1", acct, "example.com")}, from,
			iamtypes.PolicyEvaluationDecisionTypeImplicitDeny, nil, nil},
		{"sesame's policy without the From address: implicitly denied, the key named missing",
			map[string]string{"send": ses.SMTPUserPolicyIn("aws", "us-east-1", acct, "example.com")}, nil,
			iamtypes.PolicyEvaluationDecisionTypeImplicitDeny, nil, []string{"ses:FromAddress"}},
		{"an explicit Deny wins over sesame's Allow",
			map[string]string{"send": ses.SMTPUserPolicyIn("aws", "us-east-1", acct, "example.com"), "deny": denySend}, from,
			iamtypes.PolicyEvaluationDecisionTypeExplicitDeny, []string{"deny"}, nil},
		{"no policy at all: implicitly denied",
			nil, from, iamtypes.PolicyEvaluationDecisionTypeImplicitDeny, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := iamClient(endpoint(t, New(Options{})))
			u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ses-smtp-example-com")})
			if err != nil {
				t.Fatal(err)
			}
			for name, doc := range tt.policies {
				if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ses-smtp-example-com"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
					t.Fatal(err)
				}
			}
			out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
				PolicySourceArn: u.User.Arn, ActionNames: []string{"ses:SendRawEmail"},
				ResourceArns: []string{identity}, ContextEntries: tt.context,
			})
			if err != nil {
				t.Fatalf("SimulatePrincipalPolicy: %v", err)
			}
			if len(out.EvaluationResults) != 1 || out.IsTruncated {
				t.Fatalf("results %+v, truncated %v: want one", out.EvaluationResults, out.IsTruncated)
			}
			r := out.EvaluationResults[0]
			if aws.ToString(r.EvalActionName) != "ses:SendRawEmail" || r.EvalDecision != tt.want ||
				aws.ToString(r.EvalResourceName) != "arn:${Partition}:ses:${Region}:${Account}:identity/${IdentityName}" {
				t.Errorf("result %s on %s = %s, want %s", aws.ToString(r.EvalActionName), aws.ToString(r.EvalResourceName), r.EvalDecision, tt.want)
			}
			if len(r.ResourceSpecificResults) != 1 {
				t.Fatalf("resource results %+v, want one", r.ResourceSpecificResults)
			}
			rr := r.ResourceSpecificResults[0]
			if aws.ToString(rr.EvalResourceName) != identity || rr.EvalResourceDecision != tt.want {
				t.Errorf("on %s: %s, want %s on %s", aws.ToString(rr.EvalResourceName), rr.EvalResourceDecision, tt.want, identity)
			}
			var matched []string
			for _, st := range rr.MatchedStatements {
				matched = append(matched, aws.ToString(st.SourcePolicyId))
				if st.SourcePolicyType != iamtypes.PolicySourceTypeUser {
					t.Errorf("statement of %s has type %q, want user", aws.ToString(st.SourcePolicyId), st.SourcePolicyType)
				}
			}
			if !slices.Equal(matched, tt.matched) {
				t.Errorf("matched statements of %v, want %v", matched, tt.matched)
			}
			if !slices.Equal(rr.MissingContextValues, tt.missing) || !slices.Equal(r.MissingContextValues, tt.missing) {
				t.Errorf("missing context %v / %v, want %v", rr.MissingContextValues, r.MissingContextValues, tt.missing)
			}
		})
	}
}

// TestSimulatePrincipalPolicyErrors: the errors IAM documents for the
// call, and the most restrictive decision across resources at the top.
func TestSimulatePrincipalPolicyErrors(t *testing.T) {
	ctx := context.Background()
	c := iamClient(endpoint(t, New(Options{})))
	_, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + DefaultAccountID + ":user/nobody"), ActionNames: []string{"ses:SendRawEmail"}})
	if apiCode(err) != "NoSuchEntity" || apiMessage(err) != "The user with name nobody cannot be found." {
		t.Errorf("unknown user: %v, want NoSuchEntity", err)
	}
	_, err = c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("not-an-arn"), ActionNames: []string{"ses:SendRawEmail"}})
	if apiCode(err) != "InvalidInput" {
		t.Errorf("a malformed ARN: %v, want InvalidInput", err)
	}

	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("smtp")})
	if err != nil {
		t.Fatal(err)
	}
	only := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"arn:aws:ses:us-east-1:` + DefaultAccountID + `:identity/example.com"}]}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("smtp"), PolicyName: aws.String("p"), PolicyDocument: aws.String(only)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: u.User.Arn, ActionNames: []string{"ses:SendRawEmail", "ses:SendEmail"},
		ResourceArns: []string{"arn:aws:ses:us-east-1:" + DefaultAccountID + ":identity/example.com", "arn:aws:ses:us-east-1:" + DefaultAccountID + ":identity/example.org"},
		MaxItems:     aws.Int32(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.EvaluationResults) != 1 || !out.IsTruncated || out.Marker == nil {
		t.Fatalf("MaxItems 1: %d results, truncated %v", len(out.EvaluationResults), out.IsTruncated)
	}
	r := out.EvaluationResults[0]
	if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny || len(r.ResourceSpecificResults) != 2 ||
		r.ResourceSpecificResults[0].EvalResourceDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed {
		t.Errorf("allowed on one resource of two: top %s, per resource %+v", r.EvalDecision, r.ResourceSpecificResults)
	}
	next, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: u.User.Arn, ActionNames: []string{"ses:SendRawEmail", "ses:SendEmail"}, Marker: out.Marker, MaxItems: aws.Int32(1)})
	if err != nil || len(next.EvaluationResults) != 1 || aws.ToString(next.EvaluationResults[0].EvalActionName) != "ses:SendEmail" || next.IsTruncated {
		t.Errorf("the next page: %+v, %v", next, err)
	}
}
