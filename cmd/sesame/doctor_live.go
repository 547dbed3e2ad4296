package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/smtpcheck"
	"github.com/sesame-tool/sesame/steps/state"
)

// liveTarget is what the live checks are about: the saved setup that made
// the installed key, or the flags.
func liveTarget(o *doctorOptions, stateDir, keyID string) (postfix.LiveOptions, string, bool) {
	lo := postfix.LiveOptions{Domain: o.domain, User: o.smtpUser,
		KeyAge: func(id string, created time.Time) (string, string) { return steps.KeyAge(id, created, time.Now()) }}
	profile := o.profile
	found := false
	if saved, err := (state.Store{Dir: stateDir}).List(); err == nil && keyID != "" {
		for _, sv := range saved {
			if sv.Record.AccessKeyID != keyID && !containsString(sv.Record.KeysCreated, keyID) {
				continue
			}
			found = true
			if lo.Domain == "" {
				lo.Domain = sv.Domain
			}
			if lo.User == "" {
				lo.User = sv.Answers.SMTPUser
			}
			if profile == "" {
				profile = sv.Answers.Profile
			}
			break
		}
	}
	if lo.User == "" && lo.Domain != "" {
		lo.User = steps.DefaultSMTPUserName(lo.Domain)
	}
	if o.rewriteSenders != "" && postfix.ValidateRewriteSender(o.rewriteSenders) == nil {
		// The address local mail will be sent as: the policy check asks
		// about it.
		lo.From = o.rewriteSenders
	}
	return lo, profile, found
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// liveAPI wires the live checks to the SDK clients and the SMTP login
// test.
func liveAPI(c awsapi.Clients, o *doctorOptions) postfix.LiveAPI {
	inRegion := func(region string) func(*sesv2.Options) { return func(op *sesv2.Options) { op.Region = region } }
	return postfix.LiveAPI{
		AccessKeys: func(ctx context.Context, user string) ([]postfix.AccessKey, error) {
			out, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
			if err != nil {
				return nil, awsapi.Explain("iam:ListAccessKeys", user, err)
			}
			var keys []postfix.AccessKey
			for _, k := range out.AccessKeyMetadata {
				keys = append(keys, postfix.AccessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate)})
			}
			return keys, nil
		},
		Verified: func(ctx context.Context, region, domain string) (bool, error) {
			out, err := c.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(domain)}, inRegion(region))
			if err != nil {
				return false, awsapi.Explain("ses:GetEmailIdentity", domain, err)
			}
			return out.VerifiedForSendingStatus, nil
		},
		SendPolicy: func(ctx context.Context, user, region, domain, from string) (postfix.SendCheck, error) {
			return simulateSend(ctx, c.IAM, user, region, domain, from)
		},
		Production: func(ctx context.Context, region string) (bool, error) {
			out, err := c.SES.GetAccount(ctx, &sesv2.GetAccountInput{}, inRegion(region))
			if err != nil {
				return false, awsapi.Explain("ses:GetAccount", region, err)
			}
			return out.ProductionAccessEnabled, nil
		},
		Login: func(ctx context.Context, cr mta.Credentials) error {
			l := smtpcheck.Login{Endpoint: net.JoinHostPort(cr.Host, strconv.Itoa(cr.Port)), Implicit: ses.ImplicitTLS(cr.Port),
				Username: cr.Username, Password: cr.Password, Region: ses.RegionOfSMTPHost(cr.Host), Timeout: 20 * time.Second}
			if o.smtpEndpoint != "" {
				l.Endpoint, l.ServerName = o.smtpEndpoint, cr.Host
			}
			if o.smtpCA != "" {
				roots, err := smtpcheck.Roots(o.smtpCA)
				if err != nil {
					return err
				}
				l.Roots = roots
			}
			return l.Test(ctx)
		},
	}
}

// liveCallError explains a failed call of a live check; one the identity
// running doctor may not make is a *postfix.DeniedError naming it.
func liveCallError(op, resource string, err error) error {
	explained := awsapi.Explain(op, resource, err)
	if awsapi.IsAccessDenied(err) {
		return &postfix.DeniedError{Action: op, Err: explained}
	}
	return explained
}

// simulateSend asks IAM's policy simulator whether user may send as
// domain in region as SES's SMTP interface authorizes it (IAM API
// Reference, SimulatePrincipalPolicy): ses:SendRawEmail (Amazon SES
// Developer Guide, "Identity and access management in Amazon SES": the
// SMTP interface needs it) on the domain identity's ARN, in the user's
// partition and account (its ARN, from GetUser), with ses:FromAddress set
// to from, the condition key SES checks a send's From address against
// (sesame's own policy holds the user to *@domain with it). The decision
// is the resource's (ResourceSpecificResults), else the action's.
func simulateSend(ctx context.Context, c awsapi.IAM, user, region, domain, from string) (postfix.SendCheck, error) {
	u, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if err != nil {
		return postfix.SendCheck{}, liveCallError("iam:GetUser", user, err)
	}
	if u.User == nil {
		return postfix.SendCheck{}, fmt.Errorf("iam:GetUser on %s answered no user", user)
	}
	check := postfix.SendCheck{UserARN: aws.ToString(u.User.Arn)}
	check.Resource = postfix.IdentityARN(check.UserARN, region, domain)
	out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(check.UserARN),
		ActionNames:     []string{sendAction},
		ResourceArns:    []string{check.Resource},
		ContextEntries: []iamtypes.ContextEntry{{
			ContextKeyName: aws.String("ses:FromAddress"), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{from},
		}},
	})
	if err != nil {
		return postfix.SendCheck{}, liveCallError("iam:SimulatePrincipalPolicy", user, err)
	}
	for _, r := range out.EvaluationResults {
		if aws.ToString(r.EvalActionName) != sendAction {
			continue
		}
		check.Decision, check.Missing = string(r.EvalDecision), r.MissingContextValues
		for _, rr := range r.ResourceSpecificResults {
			if aws.ToString(rr.EvalResourceName) == check.Resource {
				check.Decision, check.Missing = string(rr.EvalResourceDecision), rr.MissingContextValues
			}
		}
		return check, nil
	}
	return postfix.SendCheck{}, fmt.Errorf("iam:SimulatePrincipalPolicy on %s answered no result for %s", user, sendAction)
}

// sendAction is the action SES's SMTP interface authorizes a send with.
const sendAction = "ses:SendRawEmail"
