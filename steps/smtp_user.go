package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// The tags sesame puts on the users it makes, so a later run (and the
// operator) can tell them from other users.
const (
	TagManagedBy      = "managed-by"
	TagManagedByValue = "sesame"
	TagDomain         = "sesame:domain"
)

// SMTPUser makes the IAM user whose access key is the SMTP login: a user
// with a send-only inline policy for this domain in this region, and one
// access key whose SMTP password (derived for the region) is written to
// sasl_passwd at once, before anything else happens. The IAM secret key is
// dropped right after; it is never stored, logged or reported.
type SMTPUser struct{}

// ID is the step's stable key.
func (SMTPUser) ID() string { return "smtp-user" }

// Title is the step's name for the operator.
func (SMTPUser) Title() string { return "Create the SMTP user and its password" }

// DefaultSMTPUserName is the SMTP user's name when the operator gives
// none: ses-smtp-<domain with dots as dashes>, cut to IAM's 64 characters.
func DefaultSMTPUserName(domain string) string {
	n := awsapi.SMTPUserPrefix + strings.ReplaceAll(domain, ".", "-")
	if len(n) > 64 {
		n = strings.TrimRight(n[:64], "-")
	}
	return n
}

// userState is what AWS and the disk say about the SMTP user.
type userState struct {
	name, arn string
	exists    bool
	// managed: sesame made the user. Its tag says so (GetUser returns
	// the tags), whether or not the CreateUser answer reached sesame; the
	// record says so for a user an older sesame made before tagging.
	managed bool
	tagged  bool
	// policyName is this region's inline policy; policyCurrent is its
	// document now ("" for none), decoded.
	policyName    string
	policyCurrent string
	policyOK      bool
	keys          []accessKey
	// entry is sasl_passwd on disk; entryOK when it names an active key
	// of this user for this region's SMTP host.
	path     string
	entry    *mta.Credentials
	entryOK  bool
	fileNote string
	// orphans are the keys sesame proves it made and nothing can use;
	// keys holds what sesame knows of every other key.
	orphans []orphanKey
	sorted  keySort
	// createdAt is when this run's CreateUser made the user (zero if it
	// did not): IAM may not know it everywhere yet (iam_propagation.go).
	createdAt time.Time
}

func (st *userState) done() bool {
	return st.exists && st.policyOK && st.entryOK && len(st.orphans) == 0
}

// prepare checks the answers the step needs and fills the default user.
func (SMTPUser) prepare(env *Env) error {
	if env.Answers.Domain == "" {
		return &InputError{Field: "domain", Flag: "--domain", Msg: "a domain is required"}
	}
	if env.Facts.Account == nil {
		return errors.New("smtp-user: the account is not known yet: the account step must run first")
	}
	if env.Answers.OutDir == "" {
		return &InputError{Field: "out", Flag: "--out", Msg: "a directory for the relay files (which hold the SMTP password) is required"}
	}
	if env.Answers.SMTPUser == "" {
		env.Answers.SMTPUser = DefaultSMTPUserName(env.Answers.Domain)
	}
	return ValidateUserName(env.Answers.SMTPUser)
}

func (s SMTPUser) read(ctx context.Context, env *Env) (*userState, error) {
	if err := s.prepare(env); err != nil {
		return nil, err
	}
	region := env.Answers.Region
	st := &userState{name: env.Answers.SMTPUser, path: env.mtaTarget().CredentialsFile(env.Answers.OutDir), policyName: ses.SMTPUserPolicyName(region)}
	st.arn = fmt.Sprintf("arn:%s:iam::%s:user/%s", env.partition(), env.Facts.Account.ID, st.name)

	u, err := env.Clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(st.name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return st, nil
	case err != nil:
		return nil, awsapi.Explain("iam:GetUser", st.arn, err)
	}
	st.exists = true
	if u.User != nil {
		st.arn = cmp.Or(aws.ToString(u.User.Arn), st.arn)
		st.name = cmp.Or(aws.ToString(u.User.UserName), st.name)
		for _, t := range u.User.Tags {
			if aws.ToString(t.Key) == TagManagedBy && aws.ToString(t.Value) == TagManagedByValue {
				st.tagged = true
			}
		}
	}
	st.managed = st.tagged || env.Record.UserCreated

	want := env.smtpUserPolicy()
	pol, err := env.Clients.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(st.name), PolicyName: aws.String(st.policyName)})
	switch {
	case errors.As(err, &missing):
		// Older sesame versions put one policy, ses.LegacySMTPUserPolicyName, for every
		// region: it still counts when it grants this region. It is never
		// rewritten, since it may be another region's grant.
		legacy, err := env.Clients.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(st.name), PolicyName: aws.String(ses.LegacySMTPUserPolicyName)})
		switch {
		case errors.As(err, &missing):
		case err != nil:
			return nil, awsapi.Explain("iam:GetUserPolicy", st.arn, err)
		default:
			st.policyOK = samePolicy(aws.ToString(legacy.PolicyDocument), want)
		}
	case err != nil:
		return nil, awsapi.Explain("iam:GetUserPolicy", st.arn, err)
	default:
		st.policyCurrent = decodedPolicy(aws.ToString(pol.PolicyDocument))
		st.policyOK = samePolicy(aws.ToString(pol.PolicyDocument), want)
	}

	if st.keys, err = listKeys(ctx, env, st.name, st.arn); err != nil {
		return nil, err
	}
	inFile := ""
	entry, err := readSetupCredentials(env.mtaTarget(), env.Answers.OutDir, region, smtpPortOf(env.Options))
	switch {
	case errors.Is(err, os.ErrNotExist):
		st.fileNote = fmt.Sprintf("no SMTP password on disk (%s)", st.path)
	case err != nil:
		st.fileNote = fmt.Sprintf("%s is not a sasl_passwd sesame can read (%v)", st.path, err)
	default:
		st.entry, inFile = &entry, entry.Username
		i := slices.IndexFunc(st.keys, func(k accessKey) bool { return k.ID == entry.Username })
		switch {
		case i < 0:
			st.fileNote = fmt.Sprintf("%s holds key %s, which is not a key of %s (deleted?)", st.path, entry.Username, st.name)
		case !st.keys[i].Active:
			st.fileNote = fmt.Sprintf("%s holds key %s, which is inactive", st.path, entry.Username)
		case entry.Host != ses.SMTPHost(region):
			st.fileNote = fmt.Sprintf("%s holds a password for %s, but SMTP passwords are bound to a region and this setup is %s", st.path, entry.Host, region)
		default:
			st.entryOK = true
		}
	}
	st.sorted = sortKeys(env.Record, st.managed, st.keys, inFile, env.mtaTarget())
	st.orphans = st.sorted.orphans
	return st, nil
}

// credentials records the SMTP credentials in env.Facts and publishes them
// (the password is a Secret: it never prints).
func (SMTPUser) credentials(env *Env, st *userState, e mta.Credentials, created bool) {
	c := &Credentials{UserName: st.name, AccessKeyID: e.Username, Host: e.Host, Port: e.Port, Password: e.Password, File: st.path, Created: created}
	prev := env.Facts.Credentials
	env.Facts.Credentials = c
	// The Check after an Apply finds the same credentials the Apply just
	// made: show them once.
	if prev != nil && prev.AccessKeyID == c.AccessKeyID && prev.File == c.File && prev.Port == c.Port {
		c.Created = prev.Created
		return
	}
	env.Publish("smtp-user", c)
}

// Check is Done when the user exists with the policy and sasl_passwd names
// one of its active keys for this region, with no orphan key left.
func (s SMTPUser) Check(ctx context.Context, env *Env) (Result, error) {
	st, err := s.read(ctx, env)
	if err != nil {
		return Result{}, err
	}
	if !st.done() {
		var why []string
		switch {
		case !st.exists:
			why = append(why, fmt.Sprintf("IAM user %s does not exist yet", st.name))
		case !st.policyOK && st.policyCurrent == "":
			why = append(why, fmt.Sprintf("%s has no %s policy", st.name, st.policyName))
		case !st.policyOK:
			why = append(why, fmt.Sprintf("%s's %s policy differs from the send-only one", st.name, st.policyName))
		}
		if st.exists && !st.entryOK {
			why = append(why, st.fileNote)
		}
		if len(st.orphans) > 0 {
			why = append(why, fmt.Sprintf("%d access key(s) made by sesame never had their password written", len(st.orphans)))
		}
		return Result{Status: StatusTodo, Detail: strings.Join(why, "; ")}, nil
	}
	// A run that died after writing the password but before saving the
	// record left the key pending: finish the record now.
	rec := env.Record
	changed := noteKeys(rec, st.keys, st.sorted)
	if slices.ContainsFunc(rec.KeysPending, func(p state.PendingKey) bool { return p.ID == st.entry.Username }) {
		markWritten(rec, st.entry.Username, st.path)
		changed = true
	}
	if st.tagged && !rec.UserCreated {
		rec.UserCreated, changed = true, true
	}
	if changed || rec.AccessKeyID != st.entry.Username || rec.Files[env.mtaTarget().CredentialsRole()] != st.path {
		rec.AccessKeyID = st.entry.Username
		setFile(rec, env.mtaTarget().CredentialsRole(), st.path)
		if err := env.SaveState(); err != nil {
			return Result{}, err
		}
	}
	s.credentials(env, st, *st.entry, false)
	who := "existing user"
	if st.managed {
		who = "user"
	}
	res := Result{Status: StatusDone, Detail: fmt.Sprintf("%s %s with key %s; its SMTP password for %s is in %s", who, st.name, st.entry.Username, env.Answers.Region, st.path)}
	// The key's age, and a warning past KeyMaxAge naming `sesame rotate`.
	if i := slices.IndexFunc(st.keys, func(k accessKey) bool { return k.ID == st.entry.Username }); i >= 0 && !st.keys[i].Created.IsZero() {
		age, warning := KeyAge(st.entry.Username, st.keys[i].Created, env.Clock.Now())
		res.Detail += "; " + age
		if warning != "" {
			// In the detail too: `sesame status` shows details only.
			res.Detail += ": past 90 days, run `sesame rotate`"
			res.Warnings = append(res.Warnings, warning)
		}
	}
	return res, nil
}

func setFile(rec *state.Record, role, path string) {
	if rec.Files == nil {
		rec.Files = map[string]string{}
	}
	rec.Files[role] = path
}

// Plan lists the changes: create the user, put the policy, delete orphan
// or named keys, create the key and write its password. At IAM's two-key
// limit it asks which key to replace (--replace-key).
func (s SMTPUser) Plan(ctx context.Context, env *Env) (Plan, error) {
	st, err := s.read(ctx, env)
	if err != nil {
		return Plan{}, err
	}
	region, domain := env.Answers.Region, env.Answers.Domain
	var p Plan
	add := func(c Change) { p.Changes = append(p.Changes, c) }
	switch {
	case !st.exists:
		add(Change{Action: ActionCreate, Resource: "iam-user", Name: st.name, Value: fmt.Sprintf("tags %s=%s, %s=%s", TagManagedBy, TagManagedByValue, TagDomain, domain)})
	case !st.managed:
		add(Change{Action: ActionUnchanged, Resource: "iam-user", Name: st.name, Note: "exists and was not made by sesame: sesame reuses it; its other access keys are yours and stay"})
	}
	want := env.smtpUserPolicy()
	switch {
	case st.policyOK:
	case !st.exists || st.policyCurrent == "":
		add(Change{Action: ActionCreate, Resource: "iam-policy", Name: st.name + "/" + st.policyName, Value: want, Note: "allows only ses:SendRawEmail as addresses @" + domain + " in " + region + " (to verified recipients in the sandbox, with or without a configuration set); the user's policies for other regions stay"})
	default:
		add(Change{Action: ActionUpdate, Resource: "iam-policy", Name: st.name + "/" + st.policyName, Value: want, Current: st.policyCurrent})
	}
	for _, o := range st.orphans {
		add(Change{Action: ActionDelete, Resource: "access-key", Name: o.ID, Note: "orphan key " + o.Note})
	}
	notes := map[string]string{}
	if !st.entryOK {
		for _, o := range st.sorted.lost {
			add(Change{Action: ActionUnchanged, Resource: "access-key", Name: o.ID, Note: o.Note + "; " + st.name + " was not made by sesame, so delete it yourself: aws iam delete-access-key --user-name " + st.name + " --access-key-id " + o.ID})
		}
		for _, k := range st.sorted.kept {
			notes[k.ID] = k.Note
			if !env.replaceKey(k.ID) {
				add(Change{Action: ActionUnchanged, Resource: "access-key", Name: k.ID, Current: describeKey(ctx, env, k.accessKey), Note: k.Note})
			}
		}
	}
	if !st.entryOK {
		remaining := withoutOrphans(st.keys, st.orphans)
		if env.Options.DryRun {
			if len(remaining)-len(named(env, remaining)) >= maxAccessKeys {
				add(Change{Action: ActionDelete, Resource: "access-key", Name: "(one of " + strings.Join(keyIDs(remaining), ", ") + ")", Note: "the user is at IAM's two-key limit: name the key to replace with --replace-key"})
			}
		} else if err := chooseReplacement(ctx, env, st.name, remaining, notes); err != nil {
			return Plan{}, err
		}
		for _, k := range named(env, remaining) {
			add(Change{Action: ActionDelete, Resource: "access-key", Name: k.ID, Current: describeKey(ctx, env, k), Note: "you named it to be replaced"})
		}
		add(Change{Action: ActionCreate, Resource: "access-key", Name: st.name, Note: "the SMTP user name is the new key's id; the secret key is used once to derive the password and dropped"})
		add(Change{Action: ActionWrite, Resource: "file", Name: st.path, Value: "SMTP password for " + ses.SMTPHost(region), Note: "0600, written before anything else; a directory sesame creates is 0700, an existing one keeps its mode"})
	}
	p.NeedsApproval = slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Action != ActionUnchanged })
	p.Summary = fmt.Sprintf("SMTP user %s: ", st.name) + planSummaryOf(p.Changes)
	return p, nil
}

func planSummaryOf(cs []Change) string {
	var parts []string
	for _, c := range cs {
		if c.Action == ActionUnchanged {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", c.Action, c.Resource))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

func withoutOrphans(keys []accessKey, orphans []orphanKey) []accessKey {
	return slices.DeleteFunc(slices.Clone(keys), func(k accessKey) bool {
		return slices.ContainsFunc(orphans, func(o orphanKey) bool { return o.ID == k.ID })
	})
}

// explainDenied is awsapi.Explain with a step-specific next action for a denial.
func explainDenied(op, arn string, err error, hint string) error {
	e := awsapi.Explain(op, arn, err)
	var ae *awsapi.Error
	if awsapi.IsAccessDenied(err) && errors.As(e, &ae) {
		ae.Hint = hint
	}
	return e
}

// Apply makes what is missing, in an order that survives a crash at any
// point: the user, its policy, the orphan and named keys deleted, then the
// intent saved, the key created and its password written at once.
func (s SMTPUser) Apply(ctx context.Context, env *Env) error {
	st, err := s.read(ctx, env)
	if err != nil {
		return err
	}
	domain := env.Answers.Domain
	rec := env.Record
	if !st.exists {
		made, err := env.Clients.IAM.CreateUser(ctx, &iam.CreateUserInput{
			UserName: aws.String(st.name),
			Tags: []iamtypes.Tag{
				{Key: aws.String(TagManagedBy), Value: aws.String(TagManagedByValue)},
				{Key: aws.String(TagDomain), Value: aws.String(domain)},
			},
		})
		var exists *iamtypes.EntityAlreadyExistsException
		switch {
		case errors.As(err, &exists):
			// Another run made it, or this call did and its answer was
			// lost (the SDK retried): the tags read next tell whether the
			// user is sesame's.
			env.Info("smtp-user", "IAM user %s was created meanwhile (another run, or this call whose answer was lost): reusing it", st.name)
		case err != nil:
			return explainDenied("iam:CreateUser", st.arn, err, fmt.Sprintf(
				"IAM denied iam:CreateUser for %s: ask for it (`sesame policy` prints every permission sesame needs) or pass --smtp-user with the name of an existing user", st.arn))
		default:
			rec.UserCreated = true
			if err := env.SaveState(); err != nil {
				return err
			}
			// A user made just now has its tags, no policy and no keys:
			// there is nothing to read back (three IAM calls saved).
			st.exists, st.tagged, st.managed = true, true, true
			st.createdAt = env.Clock.Now()
			if made.User != nil {
				st.arn = cmp.Or(aws.ToString(made.User.Arn), st.arn)
			}
		}
		if !st.exists { // made meanwhile: read what it has, tags included
			if st, err = s.read(ctx, env); err != nil {
				return err
			}
			if st.tagged && !rec.UserCreated {
				rec.UserCreated = true
				if err := env.SaveState(); err != nil {
					return err
				}
			}
		}
	} else if rec.UserCreated && !st.tagged {
		// A user sesame made lost its tags (or an older sesame made it).
		_, err := env.Clients.IAM.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(st.name), Tags: []iamtypes.Tag{
			{Key: aws.String(TagManagedBy), Value: aws.String(TagManagedByValue)},
			{Key: aws.String(TagDomain), Value: aws.String(domain)},
		}})
		if err != nil {
			return awsapi.Explain("iam:TagUser", st.arn, err)
		}
	}

	if noteKeys(rec, st.keys, st.sorted) || (st.tagged && !rec.UserCreated) {
		rec.UserCreated = rec.UserCreated || st.tagged
		if err := env.SaveState(); err != nil {
			return err
		}
	}

	if !st.policyOK {
		err := whileUserPropagates(ctx, env, st, "iam:PutUserPolicy", func() error {
			_, err := env.Clients.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
				UserName: aws.String(st.name), PolicyName: aws.String(st.policyName),
				PolicyDocument: aws.String(env.smtpUserPolicy()),
			})
			return err
		})
		if err != nil {
			return awsapi.Explain("iam:PutUserPolicy", st.arn, err)
		}
	}

	for _, o := range st.orphans {
		if err := deleteKey(ctx, env, st.name, st.arn, o.ID); err != nil {
			return err
		}
	}
	for _, o := range st.sorted.lost {
		env.Warn("smtp-user", "access key %s of %s was %s; %s was not made by sesame, so sesame leaves it: delete it yourself: aws iam delete-access-key --user-name %s --access-key-id %s", o.ID, st.name, o.Note, st.name, st.name, o.ID)
	}
	if st.entryOK {
		s.credentials(env, st, *st.entry, false)
		return nil
	}

	remaining := withoutOrphans(st.keys, st.orphans)
	notes := map[string]string{}
	for _, k := range st.sorted.kept {
		notes[k.ID] = k.Note
	}
	if err := chooseReplacement(ctx, env, st.name, remaining, notes); err != nil {
		return err
	}
	for _, k := range st.sorted.kept {
		if !env.replaceKey(k.ID) {
			env.Info("smtp-user", "access key %s of %s stays: %s", k.ID, st.name, k.Note)
		}
	}
	for _, k := range named(env, remaining) {
		if err := deleteKey(ctx, env, st.name, st.arn, k.ID); err != nil {
			return err
		}
	}
	return s.createKey(ctx, env, st)
}

// createKey records the intent, creates the key, records its id and
// writes its password at once. If the password cannot be written, the new
// key is deleted again: nothing could ever use it.
func (s SMTPUser) createKey(ctx context.Context, env *Env, st *userState) error {
	region, rec := env.Answers.Region, env.Record
	rec.KeyIntent = &state.KeyIntent{UserName: st.name, StartedAt: env.Clock.Now().UTC()}
	if err := env.SaveState(); err != nil {
		return err
	}
	out, err := createAccessKeyOnce(ctx, env, st)
	if err != nil {
		return err
	}
	id := aws.ToString(out.AccessKey.AccessKeyId)
	// The id is the proof that this key is sesame's: saved before the
	// password is written, so a run that dies in between leaves a key the
	// next run can prove unusable (and delete), and nothing else.
	rec.KeyIntent = nil
	rec.KeysPending = append(rec.KeysPending, state.PendingKey{ID: id, File: st.path})
	if err := env.SaveState(); err != nil {
		env.Warn("smtp-user", "could not save that access key %s is sesame's (%v); writing its password anyway", id, err)
	}
	entry := mta.Credentials{Host: ses.SMTPHost(region), Port: ses.PortOrDefault(env.Options.SMTPPort), Username: id,
		Password: mta.Secret(ses.SMTPPassword(aws.ToString(out.AccessKey.SecretAccessKey), region))}
	out = nil // the secret key goes no further than the derivation above
	path, werr := env.mtaTarget().WriteCredentials(env.Answers.OutDir, entry)
	if werr != nil {
		_, derr := env.Clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(st.name), AccessKeyId: aws.String(id)})
		if derr == nil {
			rec.KeysPending = slices.DeleteFunc(rec.KeysPending, func(p state.PendingKey) bool { return p.ID == id })
			_ = env.SaveState()
			return fmt.Errorf("writing the SMTP password failed, so the new access key %s was deleted again: %w; fix the directory (--out) and run sesame again", id, werr)
		}
		return fmt.Errorf("writing the SMTP password failed (%w), and deleting the unusable key %s failed too (%v): the next run deletes it", werr, id, derr)
	}
	rec.AccessKeyID = id
	markWritten(rec, id, path)
	setFile(rec, env.mtaTarget().CredentialsRole(), path)
	st.path = path
	s.credentials(env, st, entry, true)
	env.Info("smtp-user", "created access key %s for %s and wrote its SMTP password for %s to %s", id, st.name, region, path)
	return env.SaveState()
}

// createKeyAttempts bounds how often CreateAccessKey is tried when its
// answer is lost and the user's keys show that nothing was made.
const createKeyAttempts = 3

// createAccessKeyOnce calls CreateAccessKey so that IAM never makes a key
// sesame does not hear of: the SDK retries only throttling (IAM made
// nothing), and after any other failure without a clear answer (a dropped
// connection, a 5xx) the user's keys are listed: unchanged, IAM made
// nothing and the call is tried again; changed, a key appeared that sesame
// cannot prove is the one it asked for (a colleague may have made one in
// the same second), so the run stops and the next one shows it.
func createAccessKeyOnce(ctx context.Context, env *Env, st *userState) (*iam.CreateAccessKeyOutput, error) {
	for attempt := 1; ; attempt++ {
		var out *iam.CreateAccessKeyOutput
		err := whileUserPropagates(ctx, env, st, "iam:CreateAccessKey", func() (err error) {
			out, err = env.Clients.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(st.name)}, noBlindRetry)
			return err
		})
		if err == nil {
			return out, nil
		}
		var limit *iamtypes.LimitExceededException
		if errors.As(err, &limit) {
			e := awsapi.Explain("iam:CreateAccessKey", st.arn, err)
			var ae *awsapi.Error
			if errors.As(e, &ae) {
				ae.Hint = fmt.Sprintf("%s already has two access keys, IAM's limit: name the one to replace with --replace-key ID and run sesame again", st.name)
			}
			return nil, e
		}
		if answered(err) || ctx.Err() != nil {
			return nil, awsapi.Explain("iam:CreateAccessKey", st.arn, err)
		}
		keys, lerr := listKeys(ctx, env, st.name, st.arn)
		if lerr != nil {
			return nil, fmt.Errorf("iam:CreateAccessKey for %s got no answer (%v), and listing its keys to see whether IAM made one failed too (%w): run sesame again; it shows any key that appeared and deletes none", st.name, err, lerr)
		}
		var appeared []string
		for _, k := range keys {
			if !slices.ContainsFunc(st.keys, func(o accessKey) bool { return o.ID == k.ID }) {
				appeared = append(appeared, k.ID)
			}
		}
		if len(appeared) > 0 {
			return nil, fmt.Errorf("iam:CreateAccessKey for %s got no answer (%v), and since then key %s appeared on the user: it may be the key IAM made for sesame, whose secret was lost, or someone else's; sesame cannot tell, so it deletes nothing. Run sesame again: it creates a new key and keeps %s; once you know nothing uses it, delete it (aws iam delete-access-key --user-name %s --access-key-id %s) or name it with --replace-key",
				st.name, err, strings.Join(appeared, ", "), strings.Join(appeared, ", "), st.name, appeared[0])
		}
		if attempt == createKeyAttempts {
			return nil, awsapi.Explain("iam:CreateAccessKey", st.arn, err)
		}
		env.Warn("smtp-user", "iam:CreateAccessKey got no answer (%v); %s has no new key, so IAM made none: trying again", err, st.name)
	}
}

// answered reports whether err is an answer from AWS that says the call
// was refused (HTTP 4xx): then IAM made nothing. A 5xx, a dropped
// connection or a timeout says nothing about what IAM did.
func answered(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient
}

// noBlindRetry lets the SDK retry a CreateAccessKey only after throttling,
// when IAM did nothing. Any other retry could make a second key while the
// first one's answer (and secret) was lost: createAccessKeyOnce decides
// those itself, after looking at the user's keys.
func noBlindRetry(o *iam.Options) {
	if o.Retryer != nil {
		o.Retryer = throttleOnlyRetryer{o.Retryer}
	}
}

// throttleOnlyRetryer is a retryer that retries throttling errors only,
// with the backoff and reporting of the retryer it wraps.
type throttleOnlyRetryer struct{ aws.Retryer }

// IsErrorRetryable is true only for throttling.
func (r throttleOnlyRetryer) IsErrorRetryable(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary && r.Retryer.IsErrorRetryable(err)
}

// GetAttemptToken is the wrapped retryer's (RetryerV2), or its initial
// token.
func (r throttleOnlyRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.Retryer.GetInitialToken(), nil
}
