package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

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
		return nil, Explain("ses:GetEmailIdentity", domain, err)
	}
	id := env.Facts.Identity
	if id == nil {
		id = &IdentityInfo{Domain: domain}
		env.Facts.Identity = id
	}
	id.VerificationStatus = string(out.VerificationStatus)
	id.VerifiedForSending = out.VerifiedForSendingStatus
	if d := out.DkimAttributes; d != nil {
		id.DKIMStatus = string(d.Status)
		if len(d.Tokens) > 0 {
			id.Tokens = d.Tokens
		}
		if d.SigningHostedZone != nil {
			id.SigningHostedZone = aws.ToString(d.SigningHostedZone)
		}
	}
	if m := out.MailFromAttributes; m != nil {
		id.MailFromDomain = aws.ToString(m.MailFromDomain)
		id.MailFromStatus = string(m.MailFromDomainStatus)
	}
	if v := out.VerificationInfo; v != nil {
		id.ErrorType = string(v.ErrorType)
	}
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
			v.warnings = append(v.warnings, fmt.Sprintf("SES gave up on the MAIL FROM domain %s: check its MX (10 %s) and SPF records, then run sesame again to set it up once more; mail meanwhile goes out with SES's own MAIL FROM", id.MailFromDomain, ses.FeedbackHost(env.Answers.Region)))
		case sestypes.MailFromDomainStatusTemporaryFailure:
			v.warnings = append(v.warnings, fmt.Sprintf("SES cannot check the MAIL FROM domain %s just now (a DNS error on its side); it keeps trying", id.MailFromDomain))
		}
	}
	status := fmt.Sprintf("DKIM %s, domain %s", firstNonEmpty(id.DKIMStatus, "NOT_STARTED"), firstNonEmpty(id.VerificationStatus, "NOT_STARTED"))
	switch {
	case id.VerifiedForSending && id.DKIMStatus == string(sestypes.DkimStatusSuccess):
		v.status, v.detail = StatusDone, fmt.Sprintf("SES has verified %s for sending (DKIM SUCCESS)", domain)
		if env.Answers.MailFrom != "" && id.MailFromStatus == string(sestypes.MailFromDomainStatusSuccess) {
			v.detail += fmt.Sprintf("; MAIL FROM %s SUCCESS", id.MailFromDomain)
		}
	case id.DKIMStatus == string(sestypes.DkimStatusFailed) || id.VerificationStatus == string(sestypes.VerificationStatusFailed):
		v.status = StatusFailed
		v.detail = fmt.Sprintf("SES gave up verifying %s (%s%s): it did not find the DKIM records within 72 hours, or found wrong ones. Check the three CNAMEs at <token>._domainkey.%s, then run sesame again with --recreate-identity to start over with new tokens", domain, status, errorTypeNote(id.ErrorType), domain)
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
			Records: Visibility(ctx, env.DNS, env.Facts.Records),
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
			return &PendingError{Step: s.ID(), Detail: fmt.Sprintf("SES has not verified %s after %s (%s %s); run sesame again to keep waiting: it resumes here", env.Answers.Domain, timeout.Round(time.Second), "DKIM", firstNonEmpty(id.DKIMStatus, "PENDING"))}
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

// Visibility looks up each record through r, concurrently and each bounded
// by DefaultLookupTimeout, and says whether public DNS shows what SES
// needs: "visible", "missing", "different" or "unknown" (no resolver, or
// the lookup failed). A nil resolver gives "unknown" for every record.
func Visibility(ctx context.Context, r Resolver, records []DNSRecord) []RecordVisibility {
	out := make([]RecordVisibility, len(records))
	var wg sync.WaitGroup
	for i, rec := range records {
		out[i] = RecordVisibility{Name: rec.Name, Type: rec.Type, Expected: rec.Values, State: "unknown"}
		if r == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lctx, cancel := context.WithTimeout(ctx, DefaultLookupTimeout)
			defer cancel()
			got, err := r.Lookup(lctx, rec.Name, rec.Type)
			if err != nil {
				return
			}
			out[i].Observed = got
			out[i].State = visibleState(rec, got)
		}()
	}
	wg.Wait()
	return out
}

// visibleState compares what public DNS shows with a desired record, the
// way SES would: a merged TXT set counts when it holds our value (SPF: an
// SPF that includes amazonses.com; DMARC: any DMARC policy).
func visibleState(rec DNSRecord, got []string) string {
	if len(got) == 0 {
		return "missing"
	}
	norm := func(v string) string {
		switch rec.Type {
		case "CNAME":
			return normName(v)
		case "MX":
			return normMX(v)
		}
		return strings.TrimSpace(v)
	}
	var obs []string
	for _, g := range got {
		obs = append(obs, norm(g))
	}
	switch rec.Purpose {
	case PurposeMailFromSPF:
		for _, g := range obs {
			if isSPF(g) && spfIncludesSES(g) {
				return "visible"
			}
		}
		return "different"
	case PurposeDMARC:
		for _, g := range obs {
			if isDMARC(g) {
				return "visible"
			}
		}
		return "different"
	}
	for _, want := range rec.Values {
		if !slices.Contains(obs, norm(want)) {
			return "different"
		}
	}
	if rec.Type == "MX" && len(obs) != 1 {
		return "different"
	}
	return "visible"
}
