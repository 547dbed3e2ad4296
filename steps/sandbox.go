package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/ses"
)

// Sandbox reports the account's SES sending status in the region
// (production access or the sandbox, quotas, a review under way) and, only
// with consent, requests production access or verifies one recipient
// address for sandbox testing. Being in the sandbox is a state to report,
// not an error: the step is Done there unless the operator asked for a
// change. A run offers production access once (Decisions.ProductionOffered).
type Sandbox struct{}

// ID is the step's stable key.
func (*Sandbox) ID() string { return "sandbox" }

// Title is the step's name for the operator.
func (*Sandbox) Title() string { return "Report the SES sending status" }

// sandboxMeaning says what the sandbox means in practice.
func sandboxMeaning(region string, rep *SandboxReport) string {
	return fmt.Sprintf("in the SES sandbox in %s: mail goes only to verified addresses (and the mailbox simulator), at most %s a day and %s a second; "+
		"mail to anyone else bounces with `554 Message rejected: Email address is not verified`",
		region, quota(rep.Max24HourSend, 200), quota(rep.MaxSendRate, 1))
}

func quota(v, fallback float64) string {
	switch {
	case v < 0:
		return "unlimited"
	case v == 0:
		v = fallback
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// readSandbox asks SES for the account's status and records it.
func readSandbox(ctx context.Context, env *Env) (*SandboxReport, error) {
	out, err := env.Clients.SES.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return nil, awsapi.Explain("ses:GetAccount", env.Answers.Region, err)
	}
	rep := sandboxReport(out)
	env.Facts.Sandbox = rep
	return rep, nil
}

// recipientState says whether the recipient address to verify needs
// creating (true), and a line about where it stands.
func recipientState(ctx context.Context, env *Env) (bool, string, error) {
	addr := env.verifyRecipient()
	if addr == "" {
		return false, "", nil
	}
	if err := ValidateEmailFor("verify-recipient", addr); err != nil {
		return false, "", err
	}
	out, err := env.Clients.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	var nf *sestypes.NotFoundException
	switch {
	case errors.As(err, &nf):
		return true, "", nil
	case err != nil:
		return false, "", awsapi.Explain("ses:GetEmailIdentity", addr, err)
	case out.VerifiedForSendingStatus:
		return false, fmt.Sprintf("%s is verified: sandbox test mail can go to it", addr), nil
	default:
		return false, fmt.Sprintf("SES mailed a verification link to %s: open it, then test mail can go to that address", addr), nil
	}
}

// Check reports the sending status and publishes it. In an interactive
// run of a sandboxed account it offers (once) to request production
// access, then a test message (offerTestMail).
func (s *Sandbox) Check(ctx context.Context, env *Env) (Result, error) {
	region := env.Answers.Region
	rep := env.Facts.Sandbox
	if rep == nil {
		var err error
		if rep, err = readSandbox(ctx, env); err != nil {
			return Result{}, err
		}
	}
	env.Publish("sandbox", rep)
	resumeTestMail(env)

	var res Result
	if !rep.SendingEnabled {
		res.Warnings = append(res.Warnings, fmt.Sprintf("SES sending is paused for this account in %s: mail will be refused until AWS re-enables it", region))
	}
	if rep.ProductionAccess {
		res.Status = StatusDone
		res.Detail = fmt.Sprintf("production access in %s: %s of %s messages sent in the last 24 hours, up to %s a second",
			region, quota(rep.SentLast24Hours, 0), quota(rep.Max24HourSend, 0), quota(rep.MaxSendRate, 0))
		return res, nil
	}

	pending := rep.ReviewStatus == string(sestypes.ReviewStatusPending)
	if !pending && !env.requestProduction() && !env.Options.NoInput && !env.Options.DryRun && !env.Decisions.ProductionOffered {
		env.Decisions.ProductionOffered = true
		ok, err := env.Prompt.Confirm(ctx, Question{
			ID: "request-production", Step: "sandbox", Title: "Request SES production access now?",
			Detail: "This account is " + sandboxMeaning(region, rep) + ". AWS reviews a request in about a day; sesame needs the mail type, your website and a short use case.",
			Flag:   "--request-production", Default: "n",
		})
		switch {
		case cannotAsk(err):
		case err != nil:
			return Result{}, err
		case ok:
			env.Decisions.RequestProduction = true
		}
	}
	if err := offerTestMail(ctx, env); err != nil {
		return Result{}, err
	}

	// The recipient is read after the offer: an address of the
	// operator's chosen there is verified by this step.
	needRecipient, recipientLine, err := recipientState(ctx, env)
	if err != nil {
		return Result{}, err
	}
	if recipientLine != "" {
		res.Warnings = append(res.Warnings, recipientLine)
	}
	res.Status = StatusDone
	switch {
	case pending:
		res.Detail = fmt.Sprintf("%s; production access requested (case %s) and under review by AWS", sandboxMeaning(region, rep), cmp.Or(rep.CaseID, "id not given"))
	case env.requestProduction():
		res.Status = StatusTodo
		res.Detail = sandboxMeaning(region, rep) + "; production access will be requested"
	default:
		res.Detail = sandboxMeaning(region, rep)
		hint := "to send to anyone, request production access: run sesame with --request-production (and --mail-type, --website-url), or use the SES console's Get set up page"
		// Amazon SES API v2 Reference, ReviewDetails.Status: PENDING,
		// FAILED, GRANTED, DENIED; the review is a support case (Amazon
		// SES Developer Guide, "Request production access").
		switch sestypes.ReviewStatus(rep.ReviewStatus) {
		case sestypes.ReviewStatusDenied:
			hint = fmt.Sprintf("AWS denied the last production-access request (case %s), so the account stays in the sandbox. AWS's reasons are in that support case: open it in the AWS Support Center and answer what it asks (how recipients sign up, how you handle bounces and complaints), or file a new request with --request-production (--mail-type, --website-url) once you can answer them",
				cmp.Or(rep.CaseID, "?"))
		case sestypes.ReviewStatusFailed:
			hint = fmt.Sprintf("the last production-access request (case %s) FAILED: AWS could not process it, which says nothing about your use. File it again with --request-production (--mail-type, --website-url)", cmp.Or(rep.CaseID, "?"))
		}
		res.Warnings = append(res.Warnings, hint)
	}
	if needRecipient {
		res.Status = StatusTodo
		res.Detail += fmt.Sprintf("; %s will be verified for test mail", env.verifyRecipient())
	}
	return res, nil
}

// resumeTestMail takes the test-message address a stopped run saved
// (state.Answers.TestTo) as this run's answer to the offer, unless a flag
// answers it: the operator who closed the laptop during the wait for the
// address's verification expects the rerun to send the test.
func resumeTestMail(env *Env) {
	saved, d := env.Answers.TestTo, &env.Decisions
	if saved == "" || d.TestMailOffered || env.Options.TestTo != "" || env.Options.VerifyRecipient != "" {
		return
	}
	d.TestMailOffered = true
	if err := ValidateEmail(saved); err != nil {
		env.Answers.TestTo = ""
		env.Warn("sandbox", "the saved address for the test message is not an address (%v), so no test message is sent: give --test-to to send one", err)
		return
	}
	d.TestTo = saved
}

// Values of the test-message choice.
const (
	testMailSimulator = "simulator"
	testMailOwn       = "own"
	testMailNone      = "none"
)

// offerTestMail offers, once, in an interactive run of a sandboxed
// account that neither --test-to nor --verify-recipient answered, what
// those flags do: a test message at the end of the run to the SES mailbox
// simulator, or to an address of the operator's that this step verifies
// (SES mails it a link; the relay step sends once it is opened), or none.
// The answer is a decision of this run, saved as an answer (Answers.TestTo)
// until SES accepts the message. A front end that cannot ask sends none.
func offerTestMail(ctx context.Context, env *Env) error {
	o, d := env.Options, &env.Decisions
	if d.TestMailOffered || o.TestTo != "" || o.VerifyRecipient != "" || o.NoSMTPTest || o.NoInput || o.DryRun || o.ReadOnly {
		return nil
	}
	d.TestMailOffered = true
	v, err := env.Prompt.Choose(ctx, Question{
		ID: "test-mail", Step: "sandbox", Title: "Send a test message once the relay works?",
		Detail:  "After the SMTP login test, sesame can send one message through SES, so you see mail go out. SES's mailbox simulator takes it with no inbox to check.",
		Flag:    "--test-to",
		Default: testMailSimulator,
	}, []Option{
		// Short enough for one line each at 60 columns, where the
		// question, its choices and its flag must all show.
		{Value: testMailSimulator, Label: "SES mailbox simulator", Detail: ses.MailboxSimulatorSuccess},
		{Value: testMailOwn, Label: "An address of yours", Detail: "SES mails it a link to open first"},
		{Value: testMailNone, Label: "No test message"},
	})
	to := ""
	switch {
	case cannotAsk(err):
		return nil
	case err != nil:
		return err
	case v == testMailSimulator:
		to = ses.MailboxSimulatorSuccess
	case v == testMailOwn:
		to, err = env.Prompt.Input(ctx, Question{
			ID: "test-to", Step: "sandbox", Title: "Your address for the test message",
			Detail: fmt.Sprintf("SES mails a verification link to it; the test message goes once the link is opened (sesame waits up to %s for it).", recipientWait(env).Round(time.Second)),
			Flag:   "--verify-recipient and --test-to",
		}, func(s string) error { return ValidateEmailFor("test-to", strings.TrimSpace(s)) })
		if cannotAsk(err) {
			return nil
		}
		if err != nil {
			return err
		}
		to = strings.TrimSpace(to)
	}
	d.TestTo, env.Answers.TestTo = to, to
	return nil
}

// cannotAsk reports whether err is a front end's answer that it cannot
// ask (an *InputError): an offer then stays unmade, not an error.
func cannotAsk(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// Plan shows the production-access request (asking for missing fields)
// and the recipient to verify. Each needs approval, but for an address of
// the operator's that they chose for the test message (offerTestMail):
// choosing it, told that SES mails it a link, was the consent, and the
// question is not asked twice.
func (s *Sandbox) Plan(ctx context.Context, env *Env) (Plan, error) {
	region := env.Answers.Region
	var p Plan
	rep := env.Facts.Sandbox
	if env.requestProduction() && rep != nil && !rep.ProductionAccess && rep.ReviewStatus != string(sestypes.ReviewStatusPending) {
		p.NeedsApproval = true
		if !env.Options.DryRun {
			if err := askProduction(ctx, env); err != nil {
				return Plan{}, err
			}
		}
		pr := env.Production()
		lines := []string{
			"mail type: " + cmp.Or(pr.MailType, "(missing: --mail-type)"),
			"website: " + cmp.Or(pr.WebsiteURL, "(missing: --website-url)"),
			"use case: " + cmp.Or(pr.UseCase, "(none)"),
			"contact language: " + cmp.Or(pr.ContactLanguage, "EN"),
			"contacts: " + cmp.Or(strings.Join(pr.Contacts, ", "), "(none)"),
		}
		p.Changes = append(p.Changes, Change{Action: ActionRequest, Resource: "account", Name: "SES production access in " + region,
			Value: strings.Join(lines, "\n"), Note: "AWS reviews the request, usually within a day; the case id is kept in the state file"})
	}
	if need, _, err := recipientState(ctx, env); err != nil {
		return Plan{}, err
	} else if need {
		p.NeedsApproval = p.NeedsApproval || env.Options.VerifyRecipient != ""
		p.Changes = append(p.Changes, Change{Action: ActionCreate, Resource: "ses-identity", Name: env.verifyRecipient(),
			Note: "SES mails a verification link to this address; once opened, sandbox test mail can go to it"})
	}
	if len(p.Changes) > 0 {
		var what []string
		for _, c := range p.Changes {
			what = append(what, string(c.Action)+" "+c.Name)
		}
		p.Summary = strings.Join(what, "; ")
	}
	return p, nil
}

// askProduction fills the missing fields of the production request by
// asking (a --no-input run fails naming the flag); the optional ones are
// asked only in an interactive run.
func askProduction(ctx context.Context, env *Env) error {
	asked := env.Production()
	pr := &asked
	env.Decisions.Production = pr
	pr.MailType = strings.ToUpper(strings.TrimSpace(pr.MailType))
	if pr.MailType == "" {
		v, err := env.Prompt.Choose(ctx, Question{ID: "mail-type", Step: "sandbox", Title: "What mail will you send?", Flag: "--mail-type",
			Detail: "AWS asks this to review the request."}, []Option{
			{Value: string(sestypes.MailTypeTransactional), Label: "Transactional", Detail: "receipts, password resets, alerts: mail a recipient expects"},
			{Value: string(sestypes.MailTypeMarketing), Label: "Marketing", Detail: "newsletters and promotions"},
		})
		if err != nil {
			return err
		}
		pr.MailType = v
	}
	if pr.WebsiteURL == "" {
		v, err := env.Prompt.Input(ctx, Question{ID: "website-url", Step: "sandbox", Title: "Your website's URL", Flag: "--website-url",
			Detail: "AWS looks at it to see who sends the mail."}, ValidateWebsiteURL)
		if err != nil {
			return err
		}
		pr.WebsiteURL = strings.TrimSpace(v)
	}
	if !env.Options.NoInput && pr.UseCase == "" {
		// Amazon SES API v2 Reference, PutAccountDetails: UseCaseDescription
		// is not required and is deprecated (SDK v1.33.0, 2024-08-16); AWS's
		// review asks the operator by email when it wants more.
		v, err := env.Prompt.Input(ctx, Question{ID: "use-case", Step: "sandbox", Title: "How will you send mail, and to whom? (optional)", Flag: "--use-case",
			Detail: "Optional: AWS has deprecated this field of the request and may ignore it; leave it empty to skip. If AWS wants to know more, it asks by email at the account's address."}, nil)
		if err != nil {
			return err
		}
		pr.UseCase = strings.TrimSpace(v)
	}
	if !env.Options.NoInput && pr.Contacts == nil {
		v, err := env.Prompt.Input(ctx, Question{ID: "contact-email", Step: "sandbox", Title: fmt.Sprintf("Extra contact email addresses (comma-separated, at most %d, may be empty)", maxContactEmails), Flag: "--contact-email"},
			func(s string) error { return validateContacts(splitList(s)) })
		if err != nil {
			return err
		}
		pr.Contacts = splitList(v)
	}
	return pr.Validate()
}

func splitList(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Validate checks a production-access request before it reaches AWS: the
// mail type and the website are required, and every field must be one SES
// takes.
func (pr ProductionRequest) Validate() error { return pr.validate(true) }

// ValidateGiven checks only the fields of the request that are given, so
// the flags are refused before any AWS call; the sandbox step asks for the
// missing ones later, and Validate checks the whole request then.
func (pr ProductionRequest) ValidateGiven() error { return pr.validate(false) }

func (pr ProductionRequest) validate(complete bool) error {
	switch sestypes.MailType(strings.ToUpper(pr.MailType)) {
	case sestypes.MailTypeMarketing, sestypes.MailTypeTransactional:
	case "":
		if complete {
			return &InputError{Field: "mail-type", Flag: "--mail-type", Msg: "a mail type is required: use TRANSACTIONAL or MARKETING"}
		}
	default:
		return &InputError{Field: "mail-type", Flag: "--mail-type", Msg: fmt.Sprintf("%q is not a mail type: use TRANSACTIONAL or MARKETING", pr.MailType)}
	}
	if complete || pr.WebsiteURL != "" {
		if err := ValidateWebsiteURL(pr.WebsiteURL); err != nil {
			return err
		}
	}
	switch strings.ToUpper(pr.ContactLanguage) {
	case "", "EN", "JA":
	default:
		return &InputError{Field: "contact-language", Flag: "--contact-language", Msg: fmt.Sprintf("%q is not a contact language SES offers: use EN or JA", pr.ContactLanguage)}
	}
	return validateContacts(pr.Contacts)
}

// maxContactEmails is how many AdditionalContactEmailAddresses SES takes.
const maxContactEmails = 4

// validateContacts applies the API's limits to the extra contact
// addresses (Amazon SES API v2 Reference, PutAccountDetails,
// AdditionalContactEmailAddresses: 1 to 4 items when present, each 6 to
// 254 characters); none is sent as no field at all.
func validateContacts(addrs []string) error {
	if len(addrs) > maxContactEmails {
		return &InputError{Field: "contact-email", Flag: "--contact-email",
			Msg: fmt.Sprintf("SES takes at most %d extra contact addresses and %d were given: keep the %d that should hear about the review", maxContactEmails, len(addrs), maxContactEmails)}
	}
	for _, c := range addrs {
		if err := ValidateEmailFor("contact-email", c); err != nil {
			return err
		}
		if n := len([]rune(c)); n < 6 || n > 254 {
			return &InputError{Field: "contact-email", Flag: "--contact-email", Msg: fmt.Sprintf("%q is %d characters long: SES takes contact addresses of 6 to 254 characters", c, n)}
		}
	}
	return nil
}

// Apply verifies the recipient and requests production access. A request
// already under review (ConflictException) is reported as pending review,
// not as an error.
func (s *Sandbox) Apply(ctx context.Context, env *Env) error {
	need, _, err := recipientState(ctx, env)
	if err != nil {
		return err
	}
	if need {
		addr := env.verifyRecipient()
		_, err := env.Clients.SES.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)})
		var exists *sestypes.AlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return awsapi.Explain("ses:CreateEmailIdentity", addr, err)
		}
		env.Info("sandbox", "SES mailed a verification link to %s: open it to receive sandbox test mail", addr)
	}
	rep, err := readSandbox(ctx, env)
	if err != nil {
		return err
	}
	if !env.requestProduction() || rep.ProductionAccess || rep.ReviewStatus == string(sestypes.ReviewStatusPending) {
		return nil
	}
	pr := env.Production()
	if err := pr.Validate(); err != nil {
		return err
	}
	in := &sesv2.PutAccountDetailsInput{
		MailType:                        sestypes.MailType(strings.ToUpper(pr.MailType)),
		WebsiteURL:                      aws.String(strings.TrimSpace(pr.WebsiteURL)),
		ContactLanguage:                 sestypes.ContactLanguage(strings.ToUpper(cmp.Or(pr.ContactLanguage, "EN"))),
		AdditionalContactEmailAddresses: pr.Contacts,
		ProductionAccessEnabled:         aws.Bool(true),
	}
	if len(pr.Contacts) == 0 {
		// SES takes 1 to 4 extra contacts or none: it refuses an empty list.
		in.AdditionalContactEmailAddresses = nil
	}
	if pr.UseCase != "" {
		in.UseCaseDescription = aws.String(pr.UseCase)
	}
	_, err = env.Clients.SES.PutAccountDetails(ctx, in)
	var conflict *sestypes.ConflictException
	underReview := errors.As(err, &conflict)
	if err != nil && !underReview {
		return awsapi.Explain("ses:PutAccountDetails", env.Answers.Region, err)
	}
	if rep, err = readSandbox(ctx, env); err != nil {
		return err
	}
	if underReview {
		env.Info("sandbox", "a production-access request is already under review for this account in %s", env.Answers.Region)
		if rep.ReviewStatus != string(sestypes.ReviewStatusPending) {
			rep.ReviewStatus = string(sestypes.ReviewStatusPending) // SES said so, even if GetAccount lags
		}
	}
	if rep.CaseID != "" {
		env.Record.ProductionCaseID = rep.CaseID
	}
	return env.SaveState()
}
