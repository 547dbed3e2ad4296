package stepstest_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/stepstest"
)

// The fakes satisfy the steps' interfaces with the SDK's exact signatures.
var (
	_ awsapi.STS = (*stepstest.FakeSTS)(nil)
	_ awsapi.IAM = (*stepstest.FakeIAM)(nil)
	_ awsapi.SES = (*stepstest.FakeSES)(nil)
)

func TestFakeIAMTypedErrorsAndLimits(t *testing.T) {
	ctx := context.Background()
	f := stepstest.NewFakeIAM("123456789012")
	_, err := f.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("u")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("GetUser on no user: %v, want NoSuchEntityException", err)
	}
	if _, err := f.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("U")})
	var eae *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &eae) {
		t.Fatalf("second CreateUser (other case): %v, want EntityAlreadyExistsException", err)
	}
	for range 2 {
		if _, err := f.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")})
	var lee *iamtypes.LimitExceededException
	if !errors.As(err, &lee) {
		t.Fatalf("third key: %v, want LimitExceededException", err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"arn:aws:ses:us-east-1:1:identity/a+b.example"}]}`
	if _, err := f.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	got, err := f.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := url.QueryUnescape(aws.ToString(got.PolicyDocument))
	if err != nil || dec != doc || aws.ToString(got.PolicyDocument) == doc {
		t.Fatalf("GetUserPolicy = %q (decoded %q, %v), want the document URL-encoded", aws.ToString(got.PolicyDocument), dec, err)
	}
	if n := f.Mutations(); n != 6 {
		t.Errorf("Mutations = %d, want 6 (2 CreateUser, 3 CreateAccessKey, 1 PutUserPolicy: failed calls count too)", n)
	}
}

func TestFakeFailNext(t *testing.T) {
	ctx := context.Background()
	s := stepstest.NewFakeSTS("123456789012", "arn:aws:iam::123456789012:root")
	s.FailNext("GetCallerIdentity", stepstest.AccessDenied("sts:GetCallerIdentity"))
	_, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("injected error = %v, want AccessDenied", err)
	}
	out, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "123456789012" {
		t.Fatalf("second call = %v, %v", out, err)
	}
	if s.Calls("GetCallerIdentity") != 2 {
		t.Errorf("Calls = %d, want 2", s.Calls("GetCallerIdentity"))
	}
}

func TestFakeSESRegionsAndStatus(t *testing.T) {
	ctx := context.Background()
	east := stepstest.NewFakeSES("us-east-1")
	west := east.InRegion("eu-central-2")
	if _, err := west.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err := east.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	var nf *sesv2types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("identity leaked across regions: %v", err)
	}
	// A per-call region override reaches the other region's state.
	out, err := east.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")}, func(o *sesv2.Options) { o.Region = "eu-central-2" })
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DkimAttributes.Tokens) != 3 || aws.ToString(out.DkimAttributes.SigningHostedZone) != "dkim.eu-central-2.amazonses.com" || out.VerifiedForSendingStatus {
		t.Fatalf("new identity = %+v", out.DkimAttributes)
	}
	west.VerifyAfter("example.com", 2)
	for i, want := range []bool{false, true} {
		out, err := west.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
		if err != nil || out.VerifiedForSendingStatus != want {
			t.Fatalf("poll %d: verified=%v err=%v, want %v", i+1, out.VerifiedForSendingStatus, err, want)
		}
	}
	west.SetIdentityStatus("example.com", false, "FAILED")
	out, _ = west.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if out.VerificationStatus != sesv2types.VerificationStatusFailed || out.DkimAttributes.Status != sesv2types.DkimStatusFailed {
		t.Fatalf("after SetIdentityStatus FAILED: %s / %s", out.VerificationStatus, out.DkimAttributes.Status)
	}
	req := &sesv2.PutAccountDetailsInput{MailType: sesv2types.MailTypeTransactional, WebsiteURL: aws.String("https://example.com"), ProductionAccessEnabled: aws.Bool(true)}
	if _, err := east.PutAccountDetails(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err = east.PutAccountDetails(ctx, req)
	var ce *sesv2types.ConflictException
	if !errors.As(err, &ce) {
		t.Fatalf("second request under review: %v, want ConflictException", err)
	}
	if west.Account().Details != nil {
		t.Error("the request in us-east-1 changed eu-central-2's account")
	}
}

// DeleteUser is refused with DeleteConflict while keys or inline policies
// remain, as IAM refuses it; once they are gone the user goes.
func TestFakeIAMDeleteUserConflict(t *testing.T) {
	ctx := context.Background()
	f := stepstest.NewFakeIAM("123456789012")
	f.AddUser("u", nil)
	id, _ := f.AddAccessKey("u", f.Now())
	f.SetPolicy("u", "p", `{}`)
	del := func() error { _, err := f.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u")}); return err }
	var dc *iamtypes.DeleteConflictException
	if err := del(); !errors.As(err, &dc) {
		t.Fatalf("DeleteUser with a key and a policy: %v, want DeleteConflictException", err)
	}
	if _, err := f.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("u"), AccessKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if err := del(); !errors.As(err, &dc) {
		t.Fatalf("DeleteUser with a policy: %v, want DeleteConflictException", err)
	}
	pols, err := f.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("u")})
	if err != nil || len(pols.PolicyNames) != 1 || pols.PolicyNames[0] != "p" {
		t.Fatalf("ListUserPolicies = %+v, %v", pols, err)
	}
	if _, err := f.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	if err := del(); err != nil || f.HasUser("u") {
		t.Fatalf("DeleteUser of an empty user: %v (still there: %v)", err, f.HasUser("u"))
	}
}

// TestFakeIAMSimulation: SimulatePrincipalPolicy answers the decision the
// test set, per action and resource; an unknown user is NoSuchEntity and a
// user without a decision an error, never an invented answer.
func TestFakeIAMSimulation(t *testing.T) {
	ctx := context.Background()
	f := stepstest.NewFakeIAM("123456789012")
	f.AddUser("u", nil)
	sim := func(arn string) (*iam.SimulatePrincipalPolicyOutput, error) {
		return f.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(arn),
			ActionNames: []string{"ses:SendRawEmail"}, ResourceArns: []string{"arn:aws:ses:us-east-1:123456789012:identity/example.com"}})
	}
	if _, err := sim(f.UserARN("u")); err == nil {
		t.Error("a user without a decision set: no error")
	}
	var nse *iamtypes.NoSuchEntityException
	if _, err := sim(f.UserARN("nobody")); !errors.As(err, &nse) {
		t.Errorf("an unknown user: %v, want NoSuchEntityException", err)
	}
	f.SetSimulation("u", iamtypes.PolicyEvaluationDecisionTypeExplicitDeny)
	out, err := sim(f.UserARN("u"))
	if err != nil || len(out.EvaluationResults) != 1 || out.EvaluationResults[0].EvalDecision != iamtypes.PolicyEvaluationDecisionTypeExplicitDeny ||
		len(out.EvaluationResults[0].ResourceSpecificResults) != 1 || out.EvaluationResults[0].ResourceSpecificResults[0].EvalResourceDecision != iamtypes.PolicyEvaluationDecisionTypeExplicitDeny {
		t.Errorf("SimulatePrincipalPolicy = %+v, %v", out, err)
	}
}
