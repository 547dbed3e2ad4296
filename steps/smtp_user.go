package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/sesame-tool/sesame/steps/ses"
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
	n := SMTPUserPrefix + strings.ReplaceAll(domain, ".", "-")
	if len(n) > 64 {
		n = strings.TrimRight(n[:64], "-")
	}
	return n
}

// userState is what AWS and the disk say about the SMTP user.
type userState struct {
	name, arn string
	exists    bool
	// managed: sesame made the user (its tag, or the record says so).
	managed bool
	tagged  bool
	// policyCurrent is the inline policy now ("" for none), decoded.
	policyCurrent string
	policyOK      bool
	keys          []accessKey
	// entry is sasl_passwd on disk; entryOK when it names an active key
	// of this user for this region's SMTP host.
	path     string
	entry    *SASLEntry
	entryOK  bool
	fileNote string
	orphans  []orphanKey
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
	region, domain := env.Answers.Region, env.Answers.Domain
	st := &userState{name: env.Answers.SMTPUser, path: filepath.Join(env.Answers.OutDir, SASLPasswdFile)}
	st.arn = fmt.Sprintf("arn:aws:iam::%s:user/%s", env.Facts.Account.ID, st.name)

	u, err := env.Clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(st.name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return st, nil
	case err != nil:
		return nil, Explain("iam:GetUser", st.arn, err)
	}
	st.exists = true
	if u.User != nil {
		st.arn = firstNonEmpty(aws.ToString(u.User.Arn), st.arn)
		st.name = firstNonEmpty(aws.ToString(u.User.UserName), st.name)
		for _, t := range u.User.Tags {
			if aws.ToString(t.Key) == TagManagedBy && aws.ToString(t.Value) == TagManagedByValue {
				st.tagged = true
			}
		}
	}
	st.managed = st.tagged || env.Record.UserCreated

	want := SMTPUserPolicy(region, env.Facts.Account.ID, domain)
	pol, err := env.Clients.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(st.name), PolicyName: aws.String(SMTPPolicyName)})
	switch {
	case errors.As(err, &missing):
	case err != nil:
		return nil, Explain("iam:GetUserPolicy", st.arn, err)
	default:
		st.policyCurrent = decodedPolicy(aws.ToString(pol.PolicyDocument))
		st.policyOK = samePolicy(aws.ToString(pol.PolicyDocument), want)
	}

	if st.keys, err = listKeys(ctx, env, st.name, st.arn); err != nil {
		return nil, err
	}
	inFile := ""
	entry, err := ReadSASLPasswd(env.Answers.OutDir)
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
	st.orphans = findOrphans(env.Record, st.name, st.keys, inFile, st.path)
	return st, nil
}

// credentials records the SMTP credentials in env.Facts and publishes them
// (the password is a Secret: it never prints).
func (SMTPUser) credentials(env *Env, st *userState, e SASLEntry, created bool) {
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
			why = append(why, fmt.Sprintf("%s has no %s policy", st.name, SMTPPolicyName))
		case !st.policyOK:
			why = append(why, fmt.Sprintf("%s's %s policy differs from the send-only one", st.name, SMTPPolicyName))
		}
		if st.exists && !st.entryOK {
			why = append(why, st.fileNote)
		}
		if len(st.orphans) > 0 {
			why = append(why, fmt.Sprintf("%d access key(s) made by sesame have no password on disk", len(st.orphans)))
		}
		return Result{Status: StatusTodo, Detail: strings.Join(why, "; ")}, nil
	}
	// A run that died after writing the password but before saving the
	// record left its intent: finish the record now.
	rec := env.Record
	if rec.AccessKeyID != st.entry.Username || rec.KeyIntent != nil || rec.Files[RoleSASLPasswd] != st.path {
		i := slices.IndexFunc(st.keys, func(k accessKey) bool { return k.ID == st.entry.Username })
		if i >= 0 && madeDuringIntent(rec.KeyIntent, st.name, st.keys[i]) && !slices.Contains(rec.KeysCreated, st.entry.Username) {
			rec.KeysCreated = append(rec.KeysCreated, st.entry.Username)
		}
		rec.AccessKeyID, rec.KeyIntent = st.entry.Username, nil
		setFile(rec, RoleSASLPasswd, st.path)
		if err := env.SaveState(); err != nil {
			return Result{}, err
		}
	}
	s.credentials(env, st, *st.entry, false)
	who := "existing user"
	if st.managed {
		who = "user"
	}
	return Result{Status: StatusDone, Detail: fmt.Sprintf("%s %s with key %s; its SMTP password for %s is in %s", who, st.name, st.entry.Username, env.Answers.Region, st.path)}, nil
}

func setFile(rec *Record, role, path string) {
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
	want := SMTPUserPolicy(region, env.Facts.Account.ID, domain)
	switch {
	case !st.exists || st.policyCurrent == "":
		add(Change{Action: ActionCreate, Resource: "iam-policy", Name: st.name + "/" + SMTPPolicyName, Value: want, Note: "allows only ses:SendRawEmail on " + domain + " in " + region})
	case !st.policyOK:
		add(Change{Action: ActionUpdate, Resource: "iam-policy", Name: st.name + "/" + SMTPPolicyName, Value: want, Current: st.policyCurrent})
	}
	for _, o := range st.orphans {
		add(Change{Action: ActionDelete, Resource: "access-key", Name: o.ID, Note: "orphan key " + o.Note})
	}
	if !st.entryOK {
		remaining := withoutOrphans(st.keys, st.orphans)
		if env.Options.DryRun {
			if len(remaining)-len(named(env, remaining)) >= maxAccessKeys {
				add(Change{Action: ActionDelete, Resource: "access-key", Name: "(one of " + strings.Join(keyIDs(remaining), ", ") + ")", Note: "the user is at IAM's two-key limit: name the key to replace with --replace-key"})
			}
		} else if err := chooseReplacement(ctx, env, st.name, remaining); err != nil {
			return Plan{}, err
		}
		for _, k := range named(env, remaining) {
			add(Change{Action: ActionDelete, Resource: "access-key", Name: k.ID, Current: describeKey(ctx, env, k), Note: "you named it to be replaced"})
		}
		add(Change{Action: ActionCreate, Resource: "access-key", Name: st.name, Note: "the SMTP user name is the new key's id; the secret key is used once to derive the password and dropped"})
		add(Change{Action: ActionWrite, Resource: "file", Name: st.path, Value: "SMTP password for " + ses.SMTPHost(region), Note: "0600 in a 0700 directory, written before anything else"})
	}
	p.NeedsApproval = len(p.Changes) > 0 && !(len(p.Changes) == 1 && p.Changes[0].Action == ActionUnchanged)
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

// explainDenied is Explain with a step-specific next action for a denial.
func explainDenied(op, arn string, err error, hint string) error {
	e := Explain(op, arn, err)
	var ae *AWSError
	if IsAccessDenied(err) && errors.As(e, &ae) {
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
	region, domain := env.Answers.Region, env.Answers.Domain
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
			env.Info("smtp-user", "IAM user %s was created meanwhile (another run?): reusing it", st.name)
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
			if made.User != nil {
				st.arn = firstNonEmpty(aws.ToString(made.User.Arn), st.arn)
			}
		}
		if !st.exists { // made meanwhile by someone else: read what it has
			if st, err = s.read(ctx, env); err != nil {
				return err
			}
		}
	} else if rec.UserCreated && !st.tagged {
		// A user sesame made lost its tags (or an older sesame made it).
		_, err := env.Clients.IAM.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(st.name), Tags: []iamtypes.Tag{
			{Key: aws.String(TagManagedBy), Value: aws.String(TagManagedByValue)},
			{Key: aws.String(TagDomain), Value: aws.String(domain)},
		}})
		if err != nil {
			return Explain("iam:TagUser", st.arn, err)
		}
	}

	if !st.policyOK {
		_, err := env.Clients.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: aws.String(st.name), PolicyName: aws.String(SMTPPolicyName),
			PolicyDocument: aws.String(SMTPUserPolicy(region, env.Facts.Account.ID, domain)),
		})
		if err != nil {
			return Explain("iam:PutUserPolicy", st.arn, err)
		}
	}

	for _, o := range st.orphans {
		if err := deleteKey(ctx, env, st.name, st.arn, o.ID); err != nil {
			return err
		}
	}
	if st.entryOK {
		s.credentials(env, st, *st.entry, false)
		return nil
	}

	remaining := withoutOrphans(st.keys, st.orphans)
	if err := chooseReplacement(ctx, env, st.name, remaining); err != nil {
		return err
	}
	for _, k := range named(env, remaining) {
		if err := deleteKey(ctx, env, st.name, st.arn, k.ID); err != nil {
			return err
		}
	}
	return s.createKey(ctx, env, st)
}

// createKey records the intent, creates the key and writes its password at
// once. If the password cannot be written, the new key is deleted again:
// nothing could ever use it.
func (s SMTPUser) createKey(ctx context.Context, env *Env, st *userState) error {
	region, rec := env.Answers.Region, env.Record
	rec.KeyIntent = &KeyIntent{UserName: st.name, StartedAt: env.Clock.Now().UTC()}
	if err := env.SaveState(); err != nil {
		return err
	}
	out, err := env.Clients.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(st.name)})
	if err != nil {
		var limit *iamtypes.LimitExceededException
		if errors.As(err, &limit) {
			e := Explain("iam:CreateAccessKey", st.arn, err)
			var ae *AWSError
			if errors.As(e, &ae) {
				ae.Hint = fmt.Sprintf("%s already has two access keys, IAM's limit: name the one to replace with --replace-key ID and run sesame again", st.name)
			}
			return e
		}
		return Explain("iam:CreateAccessKey", st.arn, err)
	}
	id := aws.ToString(out.AccessKey.AccessKeyId)
	port := env.Options.SMTPPort
	if port == 0 {
		port = DefaultSMTPPort
	}
	entry := SASLEntry{Host: ses.SMTPHost(region), Port: port, Username: id,
		Password: Secret(ses.SMTPPassword(aws.ToString(out.AccessKey.SecretAccessKey), region))}
	out = nil // the secret key goes no further than the derivation above
	path, werr := WriteSASLPasswd(env.Answers.OutDir, entry)
	if werr != nil {
		_, derr := env.Clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(st.name), AccessKeyId: aws.String(id)})
		if derr == nil {
			rec.KeyIntent = nil
			_ = env.SaveState()
			return fmt.Errorf("writing the SMTP password failed, so the new access key %s was deleted again: %w; fix the directory (--out) and run sesame again", id, werr)
		}
		return fmt.Errorf("writing the SMTP password failed (%w), and deleting the unusable key %s failed too (%v): the next run deletes it", werr, id, derr)
	}
	rec.AccessKeyID = id
	if s.deleteLostKeys(ctx, env, st, id) {
		rec.KeyIntent = nil
	}
	if !slices.Contains(rec.KeysCreated, id) {
		rec.KeysCreated = append(rec.KeysCreated, id)
	}
	setFile(rec, RoleSASLPasswd, path)
	st.path = path
	s.credentials(env, st, entry, true)
	env.Info("smtp-user", "created access key %s for %s and wrote its SMTP password for %s to %s", id, st.name, region, path)
	return env.SaveState()
}

// deleteLostKeys deletes the keys this CreateAccessKey call made besides
// id: when IAM made a key but its answer was lost (a dropped connection),
// the SDK retries and IAM makes another, and the first key's secret never
// reached sesame. Such a key is new since st.keys was read and made within
// the recorded intent. It is deleted only on a user sesame made; on
// another user the operator is told. It reports whether the intent may be
// cleared: false when a key is left, so the next run still knows it as an
// orphan of this intent.
func (SMTPUser) deleteLostKeys(ctx context.Context, env *Env, st *userState, id string) bool {
	keys, err := listKeys(ctx, env, st.name, st.arn)
	if err != nil {
		env.Warn("smtp-user", "could not check %s for keys made by a retried CreateAccessKey (%v): the next run does", st.name, err)
		return false
	}
	clean := true
	for _, k := range keys {
		known := slices.ContainsFunc(st.keys, func(o accessKey) bool { return o.ID == k.ID })
		if k.ID == id || known || !madeDuringIntent(env.Record.KeyIntent, st.name, k) {
			continue
		}
		if !(st.managed || env.Record.UserCreated) {
			env.Warn("smtp-user", "access key %s of %s was made by a retried CreateAccessKey and its secret was lost; %s was not made by sesame, so delete it yourself: aws iam delete-access-key --user-name %s --access-key-id %s", k.ID, st.name, st.name, st.name, k.ID)
			continue
		}
		if err := deleteKey(ctx, env, st.name, st.arn, k.ID); err != nil {
			env.Warn("smtp-user", "access key %s was made by a retried CreateAccessKey and its secret was lost; deleting it failed (%v): the next run does", k.ID, err)
			clean = false
		}
	}
	return clean
}
