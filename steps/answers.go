package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// AskOptions say what the answer phase may do.
type AskOptions struct {
	// Saved are the setups found in the state directory, offered for
	// resuming when no --domain was given.
	Saved []*state.Saved
	// DefaultRegion is the region of the AWS configuration, offered first.
	DefaultRegion string
	// DefaultRegionNote says where DefaultRegion comes from ("from your
	// AWS configuration").
	DefaultRegionNote string
	// OutDir returns the default output directory for a domain and region.
	OutDir func(domain, region string) string
	// Resume is called once the domain and region are settled (and the
	// answers flags gave are checked) and before the other questions, so
	// answers saved for that setup are not asked again. It fills empty
	// answers (see MergeAnswers) from the setup of the account the run's
	// credentials belong to, never another account's.
	Resume func(ctx context.Context, a *state.Answers) error
}

// AskAnswers fills in what flags, variables and saved answers did not give,
// by asking through env.Prompt, and validates every answer before any AWS
// call. Under --no-input only the domain and region are required (each
// error names its flag); everything else has a default.
func AskAnswers(ctx context.Context, env *Env, o AskOptions) error {
	a := env.Answers
	ask := !env.Options.NoInput

	if a.Domain == "" && ask && len(o.Saved) > 0 {
		if err := chooseSaved(ctx, env, o.Saved); err != nil {
			return err
		}
	}
	if a.Domain == "" {
		d, err := env.Prompt.Input(ctx, Question{
			ID: "domain", Title: "Which domain will send mail?",
			Detail: "The domain in your From addresses, e.g. example.com. sesame verifies it in SES with DKIM records.",
			Flag:   "--domain",
		}, func(s string) error { _, err := NormalizeDomain(s); return err })
		if err != nil {
			return err
		}
		a.Domain = d
	}
	d, err := NormalizeDomain(a.Domain)
	if err != nil {
		return err
	}
	a.Domain = d
	if err := confirmLookalike(ctx, env); err != nil {
		return err
	}

	if a.Region == "" && ask {
		opts := regionOptions(o.DefaultRegion, o.DefaultRegionNote)
		r, err := env.Prompt.Choose(ctx, Question{
			ID: "region", Title: "Which SES region?",
			Detail:  "SMTP passwords, identities and the sandbox are per region. Pick the region nearest your servers.",
			Flag:    "--region",
			Default: opts[0].Value,
		}, opts)
		if err != nil {
			return err
		}
		a.Region = r
	}
	if a.Region == "" {
		a.Region = o.DefaultRegion
	}
	if err := ValidateRegion(a.Region); err != nil {
		return err
	}
	a.Region = strings.ToLower(strings.TrimSpace(a.Region))
	// What flags gave is checked before Resume, which may ask AWS who the
	// caller is: a bad answer stops the run with no request at all.
	if err := checkGiven(a); err != nil {
		return err
	}
	if o.Resume != nil {
		if err := o.Resume(ctx, a); err != nil {
			return err
		}
	}

	defUser := DefaultSMTPUserName(a.Domain)
	if a.SMTPUser == "" && ask {
		u, err := env.Prompt.Input(ctx, Question{
			ID: "smtp-user", Title: "IAM user for the SMTP credentials",
			Detail:  "sesame creates it (or reuses it) with a policy that may only send as this domain in this region.",
			Flag:    "--smtp-user",
			Default: defUser,
		}, func(s string) error {
			if s == "" {
				return nil
			}
			return ValidateUserName(s)
		})
		if err != nil {
			return err
		}
		a.SMTPUser = u
	}
	if a.SMTPUser == "" {
		a.SMTPUser = defUser
	}
	if err := ValidateUserName(a.SMTPUser); err != nil {
		return err
	}

	if !a.MailFromAsked && ask {
		l, err := env.Prompt.Input(ctx, Question{
			ID: "mail-from", Title: "Custom MAIL FROM subdomain (empty for none)",
			Detail: "A label such as \"mail\" makes bounces go to mail." + a.Domain + " (an MX and an SPF record there), which lets SPF align for DMARC. It must not receive mail.",
			Flag:   "--mail-from",
		}, func(s string) error {
			if s == "" {
				return nil
			}
			return ValidateMailFrom(s, a.Domain)
		})
		if err != nil {
			return err
		}
		a.MailFrom = l
	}
	a.MailFromAsked = true
	if a.MailFrom != "" {
		a.MailFrom = strings.ToLower(strings.TrimSpace(a.MailFrom))
		if err := ValidateMailFrom(a.MailFrom, a.Domain); err != nil {
			return err
		}
	}

	if !a.DMARCAsked && ask {
		ok, err := env.Prompt.Confirm(ctx, Question{
			ID: "dmarc", Title: "Publish a DMARC record (p=none) if the domain has none?",
			Detail:  "Gmail and Yahoo expect one from bulk senders. p=none only asks for reports; an existing _dmarc record is never changed.",
			Flag:    "--dmarc",
			Default: "n",
		})
		if err != nil {
			return err
		}
		a.DMARC = ok
	}
	a.DMARCAsked = true

	if a.OutDir == "" && o.OutDir != nil {
		a.OutDir = o.OutDir(a.Domain, a.Region)
	}
	if a.OutDir == "" {
		return &InputError{Field: "out", Flag: "--out", Msg: "a directory for the relay files is required"}
	}
	return nil
}

// checkGiven validates the answers already given (flags, variables, a
// chosen setup) that later questions would otherwise check.
func checkGiven(a *state.Answers) error {
	if a.SMTPUser != "" {
		if err := ValidateUserName(a.SMTPUser); err != nil {
			return err
		}
	}
	if a.MailFrom != "" {
		if err := ValidateMailFrom(a.MailFrom, a.Domain); err != nil {
			return err
		}
	}
	return nil
}

// confirmLookalike asks the operator to confirm a domain that could pass
// for another (see Lookalike), showing its Unicode and punycode forms.
// Under --no-input only --confirm-domain with this domain confirms it; a
// status run (read only) changes nothing and is not asked.
func confirmLookalike(ctx context.Context, env *Env) error {
	d := env.Answers.Domain
	why := Lookalike(d)
	if why == "" || env.Options.ReadOnly {
		return nil
	}
	shown := fmt.Sprintf("%s (punycode %s)", UnicodeDomain(d), d)
	if c := env.Options.ConfirmDomain; c != "" {
		if cd, err := NormalizeDomain(c); err == nil && cd == d {
			return nil
		}
		return &InputError{Field: "confirm-domain", Flag: "--confirm-domain", Msg: fmt.Sprintf("%q does not name this run's domain %s; to confirm that one, give --confirm-domain %s", c, shown, d)}
	}
	if env.Options.NoInput {
		return &InputError{Field: "domain", Flag: "--confirm-domain " + d, Msg: fmt.Sprintf("%s: %s, so it could pass for another domain; sesame sets it up only when you confirm it is yours", shown, why)}
	}
	ok, err := env.Prompt.Confirm(ctx, Question{
		ID: "confirm-domain", Title: fmt.Sprintf("Set up %s?", shown),
		Detail:  fmt.Sprintf("Careful: %s, so it could pass for another domain. Answer yes only if this is the domain you own.", why),
		Flag:    "--confirm-domain " + d,
		Default: "n",
	})
	if err != nil {
		return err
	}
	if !ok {
		return &InputError{Field: "domain", Flag: "--domain", Msg: fmt.Sprintf("%s was not confirmed; give the domain again, typed in the letters you meant", shown)}
	}
	return nil
}

func regionOptions(def, note string) []Option {
	var opts []Option
	if ValidateRegion(def) == nil {
		opts = append(opts, Option{Value: def, Label: def, Detail: note})
	}
	for _, r := range ses.SMTPRegions() {
		if r != def {
			opts = append(opts, Option{Value: r, Label: r})
		}
	}
	return opts
}

// chooseSaved offers the saved setups; picking one gives the domain and
// region. The other answers come from Resume, which takes them only from
// the setup of the account the credentials belong to: the setup picked
// may be another account's.
func chooseSaved(ctx context.Context, env *Env, saved []*state.Saved) error {
	opts := make([]Option, 0, len(saved)+1)
	for i, sv := range saved {
		opts = append(opts, Option{
			Value:  fmt.Sprint(i),
			Label:  fmt.Sprintf("%s in %s", sv.Domain, sv.Region),
			Detail: fmt.Sprintf("account %s, last run %s: %s", sv.Account, sv.UpdatedAt.Local().Format("2006-01-02 15:04"), savedProgress(sv.Record)),
		})
	}
	opts = append(opts, Option{Value: "new", Label: "Set up another domain"})
	v, err := env.Prompt.Choose(ctx, Question{
		ID: "resume", Title: "Resume a setup?",
		Detail: "sesame checks AWS again and picks up where things stand.",
		Flag:   "--domain", Default: "0",
	}, opts)
	if err != nil || v == "new" {
		return err
	}
	for i, sv := range saved {
		if fmt.Sprint(i) == v {
			env.Answers.Domain, env.Answers.Region = sv.Domain, sv.Region
		}
	}
	return nil
}

// savedProgress says, from the record alone (no AWS call), how far a saved
// setup got; resuming checks AWS for the truth.
func savedProgress(r state.Record) string {
	var done []string
	if r.AccessKeyID != "" {
		done = append(done, "SMTP credentials")
	}
	if r.IdentityCreated {
		done = append(done, "SES identity")
	}
	if r.ChangeID != "" {
		done = append(done, "DNS records")
	}
	if r.Files[RoleMainCF] != "" {
		done = append(done, "relay files")
	}
	if r.ProductionCaseID != "" {
		done = append(done, "production request "+r.ProductionCaseID)
	}
	if len(done) == 0 {
		return "nothing made yet"
	}
	return "made " + strings.Join(done, ", ")
}

// MergeAnswers fills the empty answers in dst from a saved setup's answers;
// what the operator gave on this run (flags, SESAME_* variables) wins.
func MergeAnswers(dst *state.Answers, saved state.Answers) {
	if dst.Domain == "" {
		dst.Domain = saved.Domain
	}
	if dst.Region == "" {
		dst.Region = saved.Region
	}
	if dst.Profile == "" {
		dst.Profile = saved.Profile
	}
	if dst.SMTPUser == "" {
		dst.SMTPUser = saved.SMTPUser
	}
	if !dst.MailFromAsked && saved.MailFromAsked {
		dst.MailFrom, dst.MailFromAsked = saved.MailFrom, true
	}
	if !dst.DMARCAsked && saved.DMARCAsked {
		dst.DMARC, dst.DMARCAsked = saved.DMARC, true
	}
	if dst.ZoneID == "" && !dst.ZoneIDSet {
		dst.ZoneID = saved.ZoneID
	}
	if dst.OutDir == "" {
		dst.OutDir = saved.OutDir
	}
	if dst.PostfixDir == "" {
		dst.PostfixDir = saved.PostfixDir
	}
	if dst.TestTo == "" {
		dst.TestTo = saved.TestTo
	}
}

// RevertAnswer sets the answer named by field (an InputError's Field:
// "zone-id", "mail-from", ...) in dst back to its value in prev, so an
// answer AWS refused is not saved. It reports whether field names an answer
// that can be reverted (domain and region name the setup itself).
func RevertAnswer(dst *state.Answers, prev state.Answers, field string) bool {
	switch field {
	case "zone-id":
		dst.ZoneID = prev.ZoneID
	case "mail-from":
		dst.MailFrom, dst.MailFromAsked = prev.MailFrom, prev.MailFromAsked
	case "dmarc":
		dst.DMARC, dst.DMARCAsked = prev.DMARC, prev.DMARCAsked
	case "smtp-user":
		dst.SMTPUser = prev.SMTPUser
	case "out":
		dst.OutDir = prev.OutDir
	case "profile":
		dst.Profile = prev.Profile
	default:
		return false
	}
	return true
}
