package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/dns"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// RemoveIdentity deletes the SES identity when sesame created it (the
// saved setup's IdentityCreated). An identity that existed before sesame
// is left; only its custom MAIL FROM setting is turned off, and only when
// it is the MAIL FROM domain whose MX record sesame created (remove-dns
// takes that MX away, so the setting would point at nothing).
type RemoveIdentity struct{}

// ID is the step's stable key.
func (RemoveIdentity) ID() string { return "remove-identity" }

// Title is the step's name for the operator.
func (RemoveIdentity) Title() string { return "Take back the SES identity" }

// mailFromOwned reports whether the identity's MAIL FROM domain is the one
// sesame set up: the answer's, with an MX record sesame created.
func mailFromOwned(env *Env, id *IdentityInfo) bool {
	if id == nil || id.MailFromDomain == "" || env.Answers.MailFrom == "" {
		return false
	}
	want := strings.ToLower(env.Answers.MailFrom + "." + env.Answers.Domain)
	if !strings.EqualFold(strings.TrimSuffix(id.MailFromDomain, "."), want) {
		return false
	}
	return slices.ContainsFunc(env.Record.DNSWritten, func(w state.DNSWrite) bool {
		return w.Created && w.Type == "MX" && dns.NormName(w.Name) == dns.NormName(want)
	})
}

// Check is Todo while an identity sesame created exists, or while a
// pre-existing identity keeps the MAIL FROM domain sesame set up.
func (RemoveIdentity) Check(ctx context.Context, env *Env) (Result, error) {
	domain, region := env.Answers.Domain, env.Answers.Region
	id, err := readIdentity(ctx, env)
	switch {
	case err != nil:
		return Result{}, err
	case id == nil:
		return Result{Status: StatusDone, Detail: fmt.Sprintf("%s is not an SES identity in %s", domain, region)}, nil
	case env.Record.IdentityCreated:
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("sesame created the SES identity %s in %s", domain, region)}, nil
	case mailFromOwned(env, id):
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("%s existed before sesame and stays; its MAIL FROM domain %s, which sesame set up, goes", domain, id.MailFromDomain)}, nil
	}
	return Result{Status: StatusSkipped, Detail: fmt.Sprintf("%s existed in %s before sesame: left as it is", domain, region)}, nil
}

// Plan says what goes.
func (RemoveIdentity) Plan(_ context.Context, env *Env) (Plan, error) {
	domain, region := env.Answers.Domain, env.Answers.Region
	id := env.Facts.Identity
	if env.Record.IdentityCreated {
		ch := Change{Action: ActionDelete, Resource: "ses-identity", Name: domain, Note: "sesame created it; its DKIM keys and MAIL FROM setting go with it, and mail from " + domain + " can no longer be sent through SES in " + region}
		if id != nil {
			ch.Current = fmt.Sprintf("verification %s, DKIM %s", cmp.Or(id.VerificationStatus, "PENDING"), cmp.Or(id.DKIMStatus, "PENDING"))
		}
		return Plan{Summary: fmt.Sprintf("delete the SES identity %s in %s", domain, region), Changes: []Change{ch}, NeedsApproval: true}, nil
	}
	ch := Change{Action: ActionUpdate, Resource: "ses-identity", Name: domain, Current: "MAIL FROM " + id.MailFromDomain, Value: "SES's own MAIL FROM (amazonses.com)",
		Note: "the identity existed before sesame and stays; only the MAIL FROM domain sesame set up goes"}
	return Plan{Summary: fmt.Sprintf("turn off the custom MAIL FROM domain of %s in %s", domain, region), Changes: []Change{ch}, NeedsApproval: true}, nil
}

// Apply deletes the identity, or turns its MAIL FROM domain off. A
// repeated Apply finds nothing to do.
func (RemoveIdentity) Apply(ctx context.Context, env *Env) error {
	domain := env.Answers.Domain
	id, err := readIdentity(ctx, env)
	if err != nil || id == nil {
		return err
	}
	var nf *sestypes.NotFoundException
	if env.Record.IdentityCreated {
		_, err := env.Clients.SES.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(domain)})
		if err != nil && !errors.As(err, &nf) {
			return awsapi.Explain("ses:DeleteEmailIdentity", identityARN(env), err)
		}
		env.Facts.Identity = nil
		return nil
	}
	if mailFromOwned(env, id) {
		_, err := env.Clients.SES.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String(domain)})
		if err != nil && !errors.As(err, &nf) {
			return awsapi.Explain("ses:PutEmailIdentityMailFromAttributes", identityARN(env), err)
		}
	}
	return nil
}

// RemoveSMTPUser takes back the SMTP user, only if it carries sesame's
// managed-by=sesame tag: its access keys, sesame's inline policies and
// the user. The user is shared by the setups of one domain in several
// regions (one policy and one key each): while another region's setup of
// it exists (its policy is on the user, or a saved setup names it), only
// this setup's keys and this region's policy go, and the keys another
// saved setup recorded are never deleted.
type RemoveSMTPUser struct {
	// Saved lists the saved setups (every account, region and domain);
	// nil means none is known besides this one.
	Saved func() []*state.Saved
}

// ID is the step's stable key.
func (*RemoveSMTPUser) ID() string { return "remove-smtp-user" }

// Title is the step's name for the operator.
func (*RemoveSMTPUser) Title() string { return "Take back the SMTP user" }

// userRemoval is what AWS holds of the user and what would go.
type userRemoval struct {
	name, arn string
	exists    bool
	tagged    bool
	keys      []string // the keys to delete
	kept      []string // keys left: another setup's
	policies  []string // sesame's policies to delete
	foreign   []string // inline policies that are not sesame's
	deleteIt  bool     // the user itself goes
	sharedBy  []string // the other setups that keep the user, in words
}

func (u *userRemoval) todo() bool { return len(u.keys) > 0 || len(u.policies) > 0 || u.deleteIt }

// setupKeys are the access keys a setup's record names as sesame's.
func setupKeys(r *state.Record) []string {
	out := slices.Clone(r.KeysCreated)
	if r.AccessKeyID != "" {
		out = append(out, r.AccessKeyID)
	}
	for _, p := range r.KeysPending {
		out = append(out, p.ID)
	}
	return out
}

func (s *RemoveSMTPUser) read(ctx context.Context, env *Env) (*userRemoval, error) {
	name := cmp.Or(env.Answers.SMTPUser, DefaultSMTPUserName(env.Answers.Domain))
	u := &userRemoval{name: name, arn: name}
	if a := env.Facts.Account; a != nil {
		u.arn = fmt.Sprintf("arn:aws:iam::%s:user/%s", a.ID, name)
	}
	got, err := env.Clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return u, nil
	case err != nil:
		return nil, awsapi.Explain("iam:GetUser", u.arn, err)
	}
	u.exists = true
	if got.User != nil {
		for _, t := range got.User.Tags {
			if aws.ToString(t.Key) == TagManagedBy && aws.ToString(t.Value) == TagManagedByValue {
				u.tagged = true
			}
		}
	}
	if !u.tagged {
		return u, nil
	}
	lk, err := env.Clients.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	if err != nil {
		return nil, awsapi.Explain("iam:ListAccessKeys", u.arn, err)
	}
	var pols []string
	in := &iam.ListUserPoliciesInput{UserName: aws.String(name)}
	for range 100 {
		lp, err := env.Clients.IAM.ListUserPolicies(ctx, in)
		if err != nil {
			return nil, awsapi.Explain("iam:ListUserPolicies", u.arn, err)
		}
		pols = append(pols, lp.PolicyNames...)
		if !lp.IsTruncated || lp.Marker == nil {
			break
		}
		in.Marker = lp.Marker
	}

	// The other setups of this user: another region's sesame policy on
	// it, or another saved setup (same account) that names it.
	region := env.Answers.Region
	mine := ses.SMTPUserPolicyName(region)
	others := map[string]bool{}
	for _, p := range pols {
		if r, ok := strings.CutPrefix(p, ses.LegacySMTPUserPolicyName+"-"); ok && p != mine {
			others["the setup in "+r] = true
		}
	}
	var otherKeys []string
	if s.Saved != nil && env.Facts.Account != nil {
		for _, sv := range s.Saved() {
			if sv.Account != env.Facts.Account.ID || (sv.Region == region && sv.Domain == env.Answers.Domain) {
				continue
			}
			if !strings.EqualFold(cmp.Or(sv.Answers.SMTPUser, DefaultSMTPUserName(sv.Domain)), name) {
				continue
			}
			others[fmt.Sprintf("the setup of %s in %s", sv.Domain, sv.Region)] = true
			otherKeys = append(otherKeys, setupKeys(&sv.Record)...)
		}
	}
	u.sharedBy = slices.Sorted(maps.Keys(others))
	for _, p := range pols {
		switch {
		case p == mine:
			u.policies = append(u.policies, p)
		case p == ses.LegacySMTPUserPolicyName || strings.HasPrefix(p, ses.LegacySMTPUserPolicyName+"-"):
			// The legacy policy served every region, and the other
			// regions' policies are theirs: they go with the user only.
			if len(u.sharedBy) == 0 {
				u.policies = append(u.policies, p)
			}
		default:
			u.foreign = append(u.foreign, p)
		}
	}
	// Every key goes with a user that goes; a user that stays (another
	// setup's, or holding a policy sesame did not write) keeps every key
	// but this setup's.
	ours := setupKeys(env.Record)
	userGoes := len(u.sharedBy) == 0 && len(u.foreign) == 0
	for _, k := range lk.AccessKeyMetadata {
		id := aws.ToString(k.AccessKeyId)
		switch {
		case slices.Contains(otherKeys, id):
			u.kept = append(u.kept, id)
		case userGoes || slices.Contains(ours, id):
			u.keys = append(u.keys, id)
		default:
			u.kept = append(u.kept, id)
		}
	}
	u.deleteIt = userGoes && len(u.kept) == 0
	return u, nil
}

// Check is Todo while any of what would go is there.
func (s *RemoveSMTPUser) Check(ctx context.Context, env *Env) (Result, error) {
	u, err := s.read(ctx, env)
	switch {
	case err != nil:
		return Result{}, err
	case !u.exists:
		return Result{Status: StatusDone, Detail: fmt.Sprintf("there is no IAM user %s", u.name)}, nil
	case !u.tagged:
		return Result{Status: StatusSkipped, Detail: fmt.Sprintf("the IAM user %s has no managed-by=sesame tag, so sesame did not make it: left as it is, with its keys and policies", u.name)}, nil
	case u.todo():
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("the IAM user %s holds %d of this setup's keys and %d of sesame's policies", u.name, len(u.keys), len(u.policies))}, nil
	}
	res := Result{Status: StatusDone, Detail: fmt.Sprintf("the IAM user %s holds nothing of this setup", u.name)}
	if len(u.sharedBy) > 0 {
		res.Detail += "; it stays for " + strings.Join(u.sharedBy, ", ")
	}
	if len(u.foreign) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the IAM user %s stays: it has inline policies sesame did not write (%s)", u.name, strings.Join(u.foreign, ", ")))
	}
	return res, nil
}

// Plan lists the keys, the policies and the user that go, and why the
// user stays when it does.
func (s *RemoveSMTPUser) Plan(ctx context.Context, env *Env) (Plan, error) {
	u, err := s.read(ctx, env)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	for _, k := range u.keys {
		note := "an SMTP password derived from it stops working"
		if f := env.Record.KeyFiles[k]; f != "" {
			note += "; its password is in " + f
		}
		p.Changes = append(p.Changes, Change{Action: ActionDelete, Resource: "access-key", Name: u.name + "/" + k, Note: note})
	}
	for _, k := range u.kept {
		p.Changes = append(p.Changes, Change{Action: ActionUnchanged, Resource: "access-key", Name: u.name + "/" + k, Note: "not this setup's key: left"})
	}
	for _, pol := range u.policies {
		p.Changes = append(p.Changes, Change{Action: ActionDelete, Resource: "iam-policy", Name: u.name + "/" + pol})
	}
	switch {
	case u.deleteIt:
		p.Changes = append(p.Changes, Change{Action: ActionDelete, Resource: "iam-user", Name: u.name, Note: "sesame made it (managed-by=sesame) and no other setup uses it"})
	case len(u.sharedBy) > 0:
		p.Changes = append(p.Changes, Change{Action: ActionUnchanged, Resource: "iam-user", Name: u.name, Note: "stays for " + strings.Join(u.sharedBy, ", ")})
	default:
		p.Changes = append(p.Changes, Change{Action: ActionUnchanged, Resource: "iam-user", Name: u.name, Note: fmt.Sprintf("stays: it has what sesame did not make (policies %s, keys %s)", strings.Join(u.foreign, ", "), strings.Join(u.kept, ", "))})
	}
	p.Summary = fmt.Sprintf("delete %d access %s and %d inline %s of %s", len(u.keys), plural(len(u.keys), "key", "keys"), len(u.policies), plural(len(u.policies), "policy", "policies"), u.name)
	if u.deleteIt {
		p.Summary += ", then the user"
	}
	p.NeedsApproval = u.todo()
	return p, nil
}

// Apply deletes the keys, then the policies, then the user: the order IAM
// requires (DeleteUser is refused with DeleteConflict while keys or
// policies remain). Each deletion of something already gone is success.
func (s *RemoveSMTPUser) Apply(ctx context.Context, env *Env) error {
	u, err := s.read(ctx, env)
	if err != nil || !u.tagged {
		return err
	}
	gone := func(err error) bool {
		var nse *iamtypes.NoSuchEntityException
		return err == nil || errors.As(err, &nse)
	}
	for _, k := range u.keys {
		if _, err := env.Clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(u.name), AccessKeyId: aws.String(k)}); !gone(err) {
			return awsapi.Explain("iam:DeleteAccessKey", u.arn, err)
		}
		env.Info(s.ID(), "deleted access key %s", k)
	}
	for _, pol := range u.policies {
		if _, err := env.Clients.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(u.name), PolicyName: aws.String(pol)}); !gone(err) {
			return awsapi.Explain("iam:DeleteUserPolicy", u.arn, err)
		}
	}
	if !u.deleteIt {
		return nil
	}
	if _, err := env.Clients.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(u.name)}); !gone(err) {
		var dc *iamtypes.DeleteConflictException
		e := awsapi.Explain("iam:DeleteUser", u.arn, err)
		if errors.As(err, &dc) {
			return fmt.Errorf("%w: something was added to the user since sesame read it (a key, a policy, a group or an attached policy); see it in the IAM console, then run sesame remove again", e)
		}
		return e
	}
	return nil
}
