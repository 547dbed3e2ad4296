package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
)

// script is a fake RunFunc: it asks the wizard's first questions, then
// walks sesame's steps with a realistic event sequence. It waits at every
// question and, when gate is set, before verification ends. fail makes the
// dns step fail with AccessDenied after its plan is approved.
type script struct {
	gate chan struct{}
	fail bool
	// calls counts runs, to see "r to retry" start a new one.
	calls int
}

const testPassword = "BPxSECRETsmtpPASSWORDvalue1234567890abcdEFGH"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func dnsPlan() *steps.Plan {
	return &steps.Plan{
		Summary:       "create 4 records, merge 1 in zone example.com (Z0123456789ABC)",
		NeedsApproval: true,
		Changes: []steps.Change{
			{Action: steps.ActionCreate, Resource: "dns-record", Name: "abcdefghijklmnopqrstuvwxyz234567._domainkey.example.com", Type: "CNAME", Value: "abcdefghijklmnopqrstuvwxyz234567.dkim.amazonses.com"},
			{Action: steps.ActionCreate, Resource: "dns-record", Name: "bcdefghijklmnopqrstuvwxyz2345678._domainkey.example.com", Type: "CNAME", Value: "bcdefghijklmnopqrstuvwxyz2345678.dkim.amazonses.com"},
			{Action: steps.ActionCreate, Resource: "dns-record", Name: "cdefghijklmnopqrstuvwxyz23456789._domainkey.example.com", Type: "CNAME", Value: "cdefghijklmnopqrstuvwxyz23456789.dkim.amazonses.com"},
			{Action: steps.ActionCreate, Resource: "dns-record", Name: "mail.example.com", Type: "MX", Value: "10 feedback-smtp.eu-west-1.amazonses.com"},
			{Action: steps.ActionMerge, Resource: "dns-record", Name: "mail.example.com", Type: "TXT", Value: "\"v=spf1 include:_spf.google.com include:amazonses.com ~all\"", Current: "\"v=spf1 include:_spf.google.com ~all\"", Note: "include:amazonses.com is added to the SPF record there"},
			{Action: steps.ActionUnchanged, Resource: "dns-record", Name: "_dmarc.example.com", Type: "TXT", Value: "\"v=DMARC1; p=none\""},
		},
	}
}

func validateDomain(s string) error {
	if !strings.Contains(s, ".") || strings.ContainsAny(s, " /") {
		return &steps.InputError{Field: "domain", Flag: "--domain", Msg: "a domain looks like example.com"}
	}
	return nil
}

func (s *script) run(ctx context.Context, p steps.Prompter, emit func(steps.Event)) (*steps.Report, error) {
	s.calls++
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ev := func(kind steps.EventKind, step, title string, st steps.Status, detail string) {
		emit(steps.Event{Kind: kind, Step: step, Title: title, Status: st, Detail: detail, Time: at(0)})
	}
	data := func(step string, d any) { emit(steps.Event{Kind: steps.EventData, Step: step, Data: d}) }
	rep := &steps.Report{Domain: "example.com", Region: "eu-west-1", Account: "123456789012", Demo: true}
	for _, id := range defaultStepIDs {
		rep.Steps = append(rep.Steps, steps.StepReport{ID: id, Status: steps.StatusTodo, Detail: "not reached"})
	}
	done := func(i int, st steps.Status, d string) { rep.Steps[i].Status, rep.Steps[i].Detail = st, d }

	domain, err := p.Input(ctx, steps.Question{ID: "domain", Title: "Domain to send from", Flag: "--domain"}, validateDomain)
	if err != nil {
		return rep, err
	}
	rep.Domain = domain
	region, err := p.Choose(ctx, steps.Question{ID: "region", Title: "SES region", Flag: "--region", Default: "eu-west-1"}, []steps.Option{
		{Value: "us-east-1", Label: "us-east-1", Detail: "US East (N. Virginia)"},
		{Value: "eu-west-1", Label: "eu-west-1", Detail: "Europe (Ireland)"},
		{Value: "eu-central-1", Label: "eu-central-1", Detail: "Europe (Frankfurt)"},
	})
	if err != nil {
		return rep, err
	}
	rep.Region = region

	ev(steps.EventStepStarted, "account", "Check the AWS account", "", "")
	data("account", &steps.AccountInfo{ID: "123456789012", ARN: "arn:aws:iam::123456789012:user/alice", Region: region})
	ev(steps.EventStepFinished, "account", "Check the AWS account", steps.StatusDone, "account 123456789012 in "+region)
	done(0, steps.StatusDone, "account 123456789012 in "+region)

	ev(steps.EventStepStarted, "smtp-user", "Create SMTP credentials", "", "")
	ev(steps.EventStepChecked, "smtp-user", "Create SMTP credentials", steps.StatusTodo, "no user ses-smtp-example-com yet")
	userPlan := &steps.Plan{Summary: "create IAM user ses-smtp-example-com with one access key", NeedsApproval: true, Changes: []steps.Change{
		{Action: steps.ActionCreate, Resource: "iam-user", Name: "ses-smtp-example-com"},
		{Action: steps.ActionCreate, Resource: "iam-policy", Name: "ses-send-example-com", Value: "ses:SendRawEmail on identity/example.com"},
		{Action: steps.ActionCreate, Resource: "access-key", Name: "ses-smtp-example-com"},
	}}
	emit(steps.Event{Kind: steps.EventPlan, Step: "smtp-user", Plan: userPlan})
	ok, err := p.Confirm(ctx, steps.Question{ID: "approve-smtp-user", Step: "smtp-user", Title: "Apply this plan?", Default: "y", Flag: "--yes", Plan: userPlan})
	if err != nil || !ok {
		return rep, errors.Join(err, steps.ErrDeclined)
	}
	emit(steps.Event{Kind: steps.EventApplying, Step: "smtp-user", Plan: userPlan})
	data("smtp-user", &steps.Credentials{UserName: "ses-smtp-example-com", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Host: "email-smtp." + region + ".amazonaws.com", Port: 587, Password: testPassword, File: "/home/alice/sesame/sasl_passwd", Created: true})
	ev(steps.EventStepFinished, "smtp-user", "", steps.StatusDone, "user ses-smtp-example-com with key AKIAIOSFODNN7EXAMPLE")
	done(1, steps.StatusDone, "user ses-smtp-example-com with key AKIAIOSFODNN7EXAMPLE")

	ev(steps.EventStepStarted, "identity", "Add the domain to SES", "", "")
	ev(steps.EventStepFinished, "identity", "", steps.StatusDone, "example.com is an SES identity with Easy DKIM")
	done(2, steps.StatusDone, "example.com is an SES identity with Easy DKIM")

	ev(steps.EventStepStarted, "dns", "Publish the DNS records", "", "")
	ev(steps.EventStepChecked, "dns", "", steps.StatusTodo, "4 records to create in example.com")
	plan := dnsPlan()
	emit(steps.Event{Kind: steps.EventPlan, Step: "dns", Plan: plan})
	ok, err = p.Confirm(ctx, steps.Question{ID: "approve-dns", Step: "dns", Title: "Apply this plan?", Default: "y", Flag: "--yes", Plan: plan})
	if err != nil || !ok {
		return rep, errors.Join(err, steps.ErrDeclined)
	}
	emit(steps.Event{Kind: steps.EventApplying, Step: "dns", Plan: plan})
	emit(steps.Event{Kind: steps.EventRetrying, Step: "dns", Attempt: 2, MaxAttempts: 5, Detail: "throttled by Route 53"})
	if s.fail {
		err := &awsapi.Error{Op: "route53:ChangeResourceRecordSets", Resource: "Z0123456789ABC", Code: "AccessDenied",
			Message: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: route53:ChangeResourceRecordSets",
			Hint:    "your AWS identity is not allowed route53:ChangeResourceRecordSets: ask your AWS administrator for it (`sesame policy` prints every permission sesame needs), then run sesame again"}
		emit(steps.Event{Kind: steps.EventStepFinished, Step: "dns", Status: steps.StatusFailed, Detail: err.Error(), Err: err})
		done(3, steps.StatusFailed, err.Error())
		rep.Error = err.Error()
		return rep, err
	}
	emit(steps.Event{Kind: steps.EventInfo, Step: "dns", Detail: "change C0123 is INSYNC"})
	ev(steps.EventStepFinished, "dns", "", steps.StatusDone, "5 records in zone example.com")
	done(3, steps.StatusDone, "5 records in zone example.com")

	ev(steps.EventStepStarted, "inbound-mx", "Leave inbound mail alone", "", "")
	emit(steps.Event{Kind: steps.EventWarning, Step: "inbound-mx", Detail: "sesame does not publish SES's inbound MX: it would replace every MX record of example.com and send its incoming mail to SES."})
	data("inbound-mx", &steps.MXReport{Domain: "example.com", Records: []string{"10 mx1.mailhost.example.net.", "20 mx2.mailhost.example.net."}})
	ev(steps.EventStepFinished, "inbound-mx", "", steps.StatusSkipped, "MX records left as they are")
	done(4, steps.StatusSkipped, "MX records left as they are")

	ev(steps.EventStepStarted, "verification", "Wait for SES to verify the domain", "", "")
	ev(steps.EventStepChecked, "verification", "", steps.StatusPending, "SES has not seen the DKIM records yet")
	recs := func(state string) []dns.Visibility {
		var r []dns.Visibility
		for i, c := range plan.Changes[:3] {
			st := state
			if i == 0 {
				st = "visible"
			}
			obs := []string(nil)
			if st == "visible" {
				obs = []string{c.Value + "."}
			}
			r = append(r, dns.Visibility{Name: c.Name, Type: c.Type, Expected: []string{c.Value + "."}, Observed: obs, State: st})
		}
		return r
	}
	data("verification", &steps.VerificationProgress{Elapsed: 35 * time.Second, NextCheck: 5 * time.Second, Checks: 7, Status: "PENDING", DKIMStatus: "PENDING", MailFromStatus: "PENDING", Records: recs("missing")})
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			emit(steps.Event{Kind: steps.EventStepFinished, Step: "verification", Status: steps.StatusTodo, Detail: "interrupted", Err: ctx.Err()})
			rep.Error = ctx.Err().Error()
			return rep, ctx.Err()
		}
	}
	data("verification", &steps.VerificationProgress{Elapsed: 95 * time.Second, Checks: 12, Status: "SUCCESS", DKIMStatus: "SUCCESS", MailFromStatus: "SUCCESS", Records: recs("visible")})
	ev(steps.EventStepFinished, "verification", "", steps.StatusDone, "verified for sending after 1m35s")
	done(5, steps.StatusDone, "verified for sending after 1m35s")

	ev(steps.EventStepStarted, "sandbox", "Report the sending status", "", "")
	sb := &steps.SandboxReport{SendingEnabled: true, EnforcementStatus: "HEALTHY", Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 12}
	data("sandbox", sb)
	rep.Sandbox = sb
	ok, err = p.Confirm(ctx, steps.Question{ID: "request-production", Step: "sandbox", Title: "Request production access now?", Default: "n", Flag: "--request-production"})
	if err != nil {
		return rep, err
	}
	_ = ok
	ev(steps.EventStepFinished, "sandbox", "", steps.StatusDone, "in the sandbox: 12 of 200 sent in 24 h")
	done(6, steps.StatusDone, "in the sandbox: 12 of 200 sent in 24 h")

	ev(steps.EventStepStarted, "relay", "Write the Postfix relay files", "", "")
	files := map[string]string{"sasl_passwd": "/home/alice/sesame/sasl_passwd", "main.cf": "/home/alice/sesame/main.cf", "apply": "/home/alice/sesame/apply-postfix.sh"}
	data("relay", &steps.RelayReport{Host: "email-smtp." + region + ".amazonaws.com", Port: 587, Files: files, LoginTest: "ok"})
	ev(steps.EventStepFinished, "relay", "", steps.StatusDone, "files written; SMTP login works")
	done(7, steps.StatusDone, "files written; SMTP login works")
	rep.SMTP = &steps.SMTPReport{Host: "email-smtp." + region + ".amazonaws.com", Port: 587, Username: "AKIAIOSFODNN7EXAMPLE"}
	rep.Files = []string{files["sasl_passwd"], files["apply"], files["main.cf"]}
	return rep, nil
}
