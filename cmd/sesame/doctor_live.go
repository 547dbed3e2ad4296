package main

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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
	lo := postfix.LiveOptions{Domain: o.domain, User: o.smtpUser}
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
				keys = append(keys, postfix.AccessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status)})
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
