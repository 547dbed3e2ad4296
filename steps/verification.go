package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/ses"
)

// The polling schedule of the verification wait. SES notices DKIM records
// within minutes when they are right, so the first two minutes poll every
// 5 s; then the interval grows ×1.5 to a 60 s cap for the first hour. SES
// keeps looking for 72 hours, but past the first hour it re-checks on its
// own slow schedule, so sesame backs off to a 10-minute cap: over the
// whole 72 hours that is under 1,000 GetEmailIdentity calls.
const (
	fastEvery     = 5 * time.Second
	fastFor       = 2 * time.Minute
	pollGrowth    = 1.5
	midCap        = 60 * time.Second
	slowAfter     = time.Hour
	slowCap       = 10 * time.Minute
	defaultVerify = 72 * time.Hour
)

// pollInterval is the wait before the next GetEmailIdentity after a check
// made at elapsed since the wait began. It is a pure function of elapsed,
// so the schedule is tested without waiting.
func pollInterval(elapsed time.Duration) time.Duration {
	if elapsed < fastFor {
		return fastEvery
	}
	t, iv := fastFor, fastEvery
	for {
		limit := midCap
		if t >= slowAfter {
			limit = slowCap
		}
		iv = min(time.Duration(float64(iv)*pollGrowth), limit)
		if t+iv > elapsed || iv == slowCap {
			return iv
		}
		if iv == midCap && elapsed < slowAfter {
			return iv
		}
		t += iv
	}
}

// Verification is the "verification" step: it waits until SES reports the
// domain verified for sending with DKIM, showing while it waits whether
// each record is visible in public DNS.
type Verification struct{}

// ID returns "verification".
func (Verification) ID() string { return "verification" }

// Title returns the step's name.
func (Verification) Title() string { return "Wait for SES to verify the domain" }

// verdict is what one GetEmailIdentity says about the wait.
type verdict struct {
	status   Status
	detail   string
	warnings []string
}

// read asks SES about the identity and updates env.Facts.Identity.
func (s Verification) read(ctx context.Context, env *Env) (*IdentityInfo, error) {
	domain := env.Answers.Domain
	out, err := env.Clients.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(domain)})
	if err != nil {
		var nf *sestypes.NotFoundException
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, awsapi.Explain("ses:GetEmailIdentity", domain, err)
	}
	fresh := identityFromGet(domain, env.Answers.Region, out)
	id := env.Facts.Identity
	if id == nil {
		env.Facts.Identity = fresh
		return fresh, nil
	}
	if len(fresh.Tokens) == 0 {
		fresh.Tokens = id.Tokens // an answer without tokens keeps the ones known
	}
	*id = *fresh // updated in place: the fact is the same one all run
	return id, nil
}

// judge turns the identity's statuses into the step's status.
func (s Verification) judge(env *Env, id *IdentityInfo) verdict {
	domain := env.Answers.Domain
	var v verdict
	if env.Answers.MailFrom != "" && id.MailFromDomain != "" {
		switch sestypes.MailFromDomainStatus(id.MailFromStatus) {
		case sestypes.MailFromDomainStatusPending:
			v.warnings = append(v.warnings, fmt.Sprintf("SES is still looking for the MX and SPF records of %s; until it sees them, mail goes out with SES's own MAIL FROM (amazonses.com), which still delivers", id.MailFromDomain))
		case sestypes.MailFromDomainStatusFailed:
			// Amazon SES Developer Guide, "Using a custom MAIL FROM domain",
			// "MAIL FROM domain setup states": Failed — SES no longer checks;
			// TemporaryFailure — it checks for 72 hours more, then Failed.
			v.warnings = append(v.warnings, fmt.Sprintf("SES gave up on the MAIL FROM domain %s (FAILED) and no longer checks it: make sure it has exactly one MX record, 10 %s, and the SPF TXT \"v=spf1 include:amazonses.com ~all\", then run sesame again: its dns step sets the MAIL FROM domain again, which restarts SES's check. Mail meanwhile goes out with SES's own MAIL FROM (amazonses.com)", id.MailFromDomain, ses.FeedbackHost(env.Answers.Region)))
		case sestypes.MailFromDomainStatusTemporaryFailure:
			v.warnings = append(v.warnings, fmt.Sprintf("SES cannot see the MX record of the MAIL FROM domain %s just now (TEMPORARY_FAILURE: usually the domain's name servers did not answer, or the record went away). It keeps checking for 72 hours and mail goes out with SES's own MAIL FROM meanwhile: check that dig MX %s shows exactly 10 %s. If it turns FAILED, run sesame again: it sets the MAIL FROM domain again", id.MailFromDomain, id.MailFromDomain, ses.FeedbackHost(env.Answers.Region)))
		}
	}
	status := fmt.Sprintf("DKIM %s, domain %s", cmp.Or(id.DKIMStatus, "NOT_STARTED"), cmp.Or(id.VerificationStatus, "NOT_STARTED"))
	switch {
	case id.VerifiedForSending && id.DKIMStatus == string(sestypes.DkimStatusSuccess):
		v.status, v.detail = StatusDone, fmt.Sprintf("SES has verified %s for sending (DKIM SUCCESS)", domain)
		if env.Answers.MailFrom != "" && id.MailFromStatus == string(sestypes.MailFromDomainStatusSuccess) {
			v.detail += fmt.Sprintf("; MAIL FROM %s SUCCESS", id.MailFromDomain)
		}
	case id.DKIMStatus == string(sestypes.DkimStatusFailed) || id.VerificationStatus == string(sestypes.VerificationStatusFailed):
		v.status = StatusFailed
		v.detail = fmt.Sprintf("SES gave up verifying %s (%s%s): it did not find the DKIM records within 72 hours, or found wrong ones. Check the three CNAMEs at <token>._domainkey.%s, then run sesame again with --recreate-identity to start over with new tokens", domain, status, errorTypeNote(id.ErrorType), domain)
	case id.VerifiedForSending && (id.DKIMStatus == string(sestypes.DkimStatusTemporaryFailure) || id.VerificationStatus == string(sestypes.VerificationStatusTemporaryFailure)):
		// Amazon SES API v2 Reference, DkimAttributes.Status:
		// TEMPORARY_FAILURE — "A temporary issue is preventing Amazon SES
		// from determining the DKIM authentication status of the domain".
		// The identity stays verified for sending: nothing to wait for.
		v.status = StatusDone
		v.detail = fmt.Sprintf("SES has verified %s for sending; its DKIM check is in TEMPORARY_FAILURE", domain)
		v.warnings = append(v.warnings, fmt.Sprintf("SES cannot determine %s's DKIM status just now (TEMPORARY_FAILURE: usually the domain's name servers did not answer, or a DKIM CNAME went away). It keeps checking for 72 hours and the domain stays verified meanwhile: check that dig CNAME <token>._domainkey.%s answers for each of the three tokens (sesame status lists them). If it turns FAILED, run sesame again with --recreate-identity", domain, domain))
	case id.DKIMStatus == string(sestypes.DkimStatusTemporaryFailure) || id.VerificationStatus == string(sestypes.VerificationStatusTemporaryFailure):
		v.status = StatusPending
		v.detail = fmt.Sprintf("SES cannot check %s's DKIM records just now (%s%s), usually a DNS error at the domain's name servers; it keeps trying for 72 hours. Check that the name servers answer, and wait", domain, status, errorTypeNote(id.ErrorType))
	default:
		v.status = StatusPending
		v.detail = fmt.Sprintf("SES is looking for the DKIM records of %s (%s); this usually takes a few minutes once they are in public DNS", domain, status)
	}
	return v
}

func errorTypeNote(t string) string {
	if t == "" {
		return ""
	}
	return "; SES reports " + t
}

// Check asks SES once where verification stands.
func (s Verification) Check(ctx context.Context, env *Env) (Result, error) {
	id, err := s.read(ctx, env)
	if err != nil {
		return Result{}, err
	}
	if id == nil {
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("%s is not an SES identity yet, so there is nothing to verify", env.Answers.Domain)}, nil
	}
	v := s.judge(env, id)
	return Result{Status: v.status, Detail: v.detail, Warnings: v.warnings}, nil
}

// Plan says that Apply waits; it changes nothing in AWS.
func (s Verification) Plan(_ context.Context, env *Env) (Plan, error) {
	return Plan{
		Summary: "wait for SES to verify " + env.Answers.Domain,
		Changes: []Change{{Action: ActionWait, Resource: "ses-identity", Name: env.Answers.Domain, Value: "verified for sending, DKIM SUCCESS"}},
	}, nil
}

// Apply polls GetEmailIdentity on pollInterval's schedule until SES has
// verified the domain, it fails, the context ends, or the timeout
// (Options.Timeout, 72 hours by default) passes, which is a *PendingError:
// safe to resume. Each poll publishes a *VerificationProgress.
func (s Verification) Apply(ctx context.Context, env *Env) error {
	timeout := env.Options.Timeout
	if timeout <= 0 {
		timeout = defaultVerify
	}
	start := env.Clock.Now()
	for checks := 1; ; checks++ {
		id, err := s.read(ctx, env)
		if err != nil {
			return err
		}
		if id == nil {
			return fmt.Errorf("wait for verification: %s is not an SES identity (was it deleted meanwhile?); run sesame again to create it", env.Answers.Domain)
		}
		v := s.judge(env, id)
		elapsed := env.Clock.Now().Sub(start)
		next := pollInterval(elapsed)
		prog := &VerificationProgress{
			Elapsed: elapsed, NextCheck: next, Checks: checks,
			Status: id.VerificationStatus, DKIMStatus: id.DKIMStatus, MailFromStatus: id.MailFromStatus,
			Records: dns.Observe(ctx, env.DNS, env.Facts.Records),
		}
		switch v.status {
		case StatusDone:
			prog.NextCheck = 0
			env.Publish(s.ID(), prog)
			return nil
		case StatusFailed:
			env.Publish(s.ID(), prog)
			return errors.New(v.detail)
		}
		if elapsed >= timeout {
			prog.NextCheck = 0
			env.Publish(s.ID(), prog)
			return &PendingError{Step: s.ID(), Detail: fmt.Sprintf("SES has not verified %s after %s (%s %s); run sesame again to keep waiting: it resumes here", env.Answers.Domain, timeout.Round(time.Second), "DKIM", cmp.Or(id.DKIMStatus, "PENDING"))}
		}
		// The last check falls on the timeout itself, so the wait lasts
		// as long as --timeout says and the message can say so.
		next = min(next, timeout-elapsed)
		prog.NextCheck = next
		env.Publish(s.ID(), prog)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-env.Clock.After(next):
		}
	}
}
