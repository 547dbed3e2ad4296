package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/ses"
)

// Account makes sure the credentials resolve and says who and where sesame
// is working, before any change: the account id, the caller's ARN, the
// region (which must have an SES SMTP endpoint) and the account's SES
// sending status there. It changes nothing; its Check is Done or fails.
type Account struct{}

// ID is the step's stable key.
func (Account) ID() string { return "account" }

// Title is the step's name for the operator.
func (Account) Title() string { return "Check the AWS account" }

// Check validates the region, asks STS who the caller is and SES v2 about
// the account, and fills env.Facts.Account and env.Facts.Sandbox. The
// runner binds the run to the setup right after it (see SetupBinder).
func (Account) Check(ctx context.Context, env *Env) (Result, error) {
	region := strings.ToLower(strings.TrimSpace(env.Answers.Region))
	if err := ValidateRegion(region); err != nil {
		return Result{}, err
	}
	env.Answers.Region = region

	who, err := env.Clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Result{}, awsapi.Explain("sts:GetCallerIdentity", "", err)
	}
	info := &AccountInfo{ID: aws.ToString(who.Account), ARN: aws.ToString(who.Arn), Region: region}
	info.IsRoot = strings.HasSuffix(info.ARN, ":root")
	env.Facts.Account = info

	acct, err := env.Clients.SES.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return Result{}, explainSESUnavailable(region, awsapi.Explain("ses:GetAccount", region, err))
	}
	rep := sandboxReport(acct)
	env.Facts.Sandbox = rep
	env.Publish("account", info)

	var res Result
	if info.IsRoot {
		res.Warnings = append(res.Warnings, "you are signed in as the account's root user: AWS advises against using it for everyday work. sesame goes on, but consider an IAM user or an SSO role with the permissions `sesame policy` prints")
	}
	if !rep.SendingEnabled {
		res.Warnings = append(res.Warnings, fmt.Sprintf("SES sending is paused for this account in %s: mail relayed through it will be refused until AWS re-enables it (see the SES console's Account dashboard)", region))
	}
	if rep.EnforcementStatus != "" && rep.EnforcementStatus != "HEALTHY" {
		res.Warnings = append(res.Warnings, fmt.Sprintf("SES enforcement status in %s is %s: AWS has flagged this account's sending; see the SES console's Reputation metrics before relaying mail", region, rep.EnforcementStatus))
	}
	mode := "SES sandbox"
	if rep.ProductionAccess {
		mode = "SES production access"
	}
	res.Status = StatusDone
	res.Detail = fmt.Sprintf("account %s (%s) in %s; %s", info.ID, info.ARN, region, mode)
	return res, nil
}

// Setup is the account the run binds to once Check has learned it.
func (Account) Setup(env *Env) *AccountInfo { return env.Facts.Account }

// Plan is empty: the account step changes nothing.
func (Account) Plan(context.Context, *Env) (Plan, error) { return Plan{}, nil }

// Apply does nothing: the account step changes nothing.
func (Account) Apply(context.Context, *Env) error { return nil }

// explainSESUnavailable replaces the generic hint of a GetAccount failure
// that was not an AWS answer (a DNS failure on email.<region>, a refused
// connection) with one that says SES may not be offered there.
func explainSESUnavailable(region string, err error) error {
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != "" {
		return err
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) || strings.Contains(ae.Message, "no such host") {
		ae.Hint = fmt.Sprintf("SES is not available in %s from here (its endpoint email.%s.amazonaws.com does not resolve): choose another region with --region (one of: %s)", region, region, strings.Join(ses.SMTPRegions(), ", "))
	}
	return err
}

// sandboxReport turns SES's GetAccount answer into the sandbox facts.
func sandboxReport(out *sesv2.GetAccountOutput) *SandboxReport {
	rep := &SandboxReport{
		ProductionAccess:  out.ProductionAccessEnabled,
		SendingEnabled:    out.SendingEnabled,
		EnforcementStatus: aws.ToString(out.EnforcementStatus),
	}
	if q := out.SendQuota; q != nil {
		rep.Max24HourSend, rep.MaxSendRate, rep.SentLast24Hours = q.Max24HourSend, q.MaxSendRate, q.SentLast24Hours
	}
	if d := out.Details; d != nil && d.ReviewDetails != nil {
		rep.ReviewStatus = string(d.ReviewDetails.Status)
		rep.CaseID = aws.ToString(d.ReviewDetails.CaseId)
	}
	return rep
}
