package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/smtpcheck"
	"github.com/sesame-tool/sesame/steps/state"
)

// KeyMaxAge is the age past which `sesame status` warns that the SMTP
// key is due for rotation: security reviews flag access keys older than
// 90 days.
const KeyMaxAge = 90 * 24 * time.Hour

// RotateOptions are the switches of `sesame rotate` beyond Options.
type RotateOptions struct {
	// Grace is how long the old key stays inactive before it is deleted.
	// 0 deletes it right away, once the new key logged in and Postfix's
	// queue holds no message deferred for a refused login.
	Grace time.Duration
	// Sbin is where Postfix's commands are ("" means PATH, then /usr/sbin).
	Sbin string
	// OSRelease picks the distribution's CA file for the Postfix settings
	// ("" means /etc/os-release), as the relay step does.
	OSRelease string
	// RelayOverride, when set, edits the Postfix configuration rotate
	// installs (its Host, Port and CAFile): tests point a real Postfix at
	// a simulated SES endpoint with it. nil means the region's SES host.
	RelayOverride func(*postfix.Config)
}

// rotation is what the steps of one `sesame rotate` run share.
type rotation struct {
	RotateOptions
	// approved is set once the rotate-key plan (which lists the old key's
	// deletion too) was approved in this run.
	approved bool
}

// RotateSteps returns the steps of `sesame rotate`: the account (which
// binds the saved setup), the new key put in place and tested with the
// old one deactivated, then the old key deleted. Run them with a Runner:
// every change is recorded before it is made, so a rerun continues a
// rotation that was killed at any point.
func RotateSteps(o RotateOptions) []Step {
	r := &rotation{RotateOptions: o}
	return []Step{&Account{}, &RotateKey{r: r}, &RetireKey{r: r}}
}

// RotateKey is the "rotate-key" step: it makes a second access key for
// the SMTP user sesame made, writes its SMTP password into sasl_passwd
// (the previous file kept as a backup), installs it into Postfix where
// sesame installed the relay (or --apply-postfix) and reloads, tests the
// SMTP login with the new key and only then makes the old key inactive. A
// failed login test rolls everything back to the old key.
type RotateKey struct{ r *rotation }

// ID implements Step.
func (*RotateKey) ID() string { return "rotate-key" }

// Title implements Step.
func (*RotateKey) Title() string { return "Replace the SMTP key with a new one" }

// rotState is what IAM and the disk say about the key being rotated.
type rotState struct {
	user, arn string
	keys      []accessKey
	// entry is sesame's line in sasl_passwd; path the file.
	entry mta.Credentials
	path  string
	// sorted are the keys other than the one in sasl_passwd, by what
	// sesame can prove about them.
	sorted keySort
}

func (s *rotState) key(id string) (accessKey, bool) {
	i := slices.IndexFunc(s.keys, func(k accessKey) bool { return k.ID == id })
	if i < 0 {
		return accessKey{}, false
	}
	return s.keys[i], true
}

// notRotatable is a setup sesame cannot rotate: the step fails with why.
type notRotatable struct{ msg string }

func (e *notRotatable) Error() string { return e.msg }

// readRotation reads the user, its keys and sasl_passwd. A setup that
// cannot be rotated (no user, a user sesame did not make, no password on
// disk) is a *notRotatable.
func readRotation(ctx context.Context, env *Env) (*rotState, error) {
	a := env.Answers
	if a.Domain == "" {
		return nil, &InputError{Field: "domain", Flag: "--domain", Msg: "name the setup to rotate"}
	}
	if env.Facts.Account == nil {
		return nil, errors.New("rotate: the account is not known yet: the account step must run first")
	}
	if a.OutDir == "" {
		return nil, &notRotatable{fmt.Sprintf("no saved setup of %s in %s says where its relay files are: run `sesame --domain %s --region %s` first, or name the directory with --out", a.Domain, a.Region, a.Domain, a.Region)}
	}
	if a.SMTPUser == "" {
		a.SMTPUser = DefaultSMTPUserName(a.Domain)
	}
	st := &rotState{user: a.SMTPUser, path: env.mtaTarget().CredentialsFile(a.OutDir)}
	st.arn = fmt.Sprintf("arn:aws:iam::%s:user/%s", env.Facts.Account.ID, st.user)
	u, err := env.Clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(st.user)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return nil, &notRotatable{fmt.Sprintf("IAM user %s does not exist: there is no key to rotate; run `sesame --domain %s --region %s` to set up", st.user, a.Domain, a.Region)}
	case err != nil:
		return nil, awsapi.Explain("iam:GetUser", st.arn, err)
	}
	tagged := false
	if u.User != nil {
		for _, t := range u.User.Tags {
			if aws.ToString(t.Key) == TagManagedBy && aws.ToString(t.Value) == TagManagedByValue {
				tagged = true
			}
		}
	}
	if !tagged && !env.Record.UserCreated {
		return nil, &notRotatable{fmt.Sprintf("IAM user %s was not made by sesame (it has no %s=%s tag): sesame rotates only the keys of users it made; rotate this one by hand, or give the setup its own user with `sesame --smtp-user`", st.user, TagManagedBy, TagManagedByValue)}
	}
	if st.keys, err = listKeys(ctx, env, st.user, st.arn); err != nil {
		return nil, err
	}
	entry, err := readSetupCredentials(env.mtaTarget(), a.OutDir, a.Region, smtpPortOf(env.Options))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &notRotatable{fmt.Sprintf("no SMTP password on disk (%s): there is nothing to rotate; run `sesame --domain %s --region %s` to make one", st.path, a.Domain, a.Region)}
	case err != nil:
		return nil, &notRotatable{fmt.Sprintf("%s is not a sasl_passwd sesame can read (%v)", st.path, err)}
	}
	if entry.Host != ses.SMTPHost(a.Region) {
		return nil, &notRotatable{fmt.Sprintf("%s holds a password for %s, not for %s: run sesame rotate with that region's --region", st.path, entry.Host, a.Region)}
	}
	st.entry = entry
	st.sorted = sortKeys(env.Record, true, st.keys, entry.Username, env.mtaTarget())
	return st, nil
}

// rotateCheck wraps readRotation for Check: a *notRotatable is a Failed
// result rather than an error.
func rotateCheck(ctx context.Context, env *Env) (*rotState, *Result, error) {
	st, err := readRotation(ctx, env)
	var nr *notRotatable
	if errors.As(err, &nr) {
		return nil, &Result{Status: StatusFailed, Detail: nr.msg}, nil
	}
	return st, nil, err
}

// Check implements Step: Todo with the key's age and last use, or where
// an interrupted rotation stands; Done once the new key is in place.
func (k *RotateKey) Check(ctx context.Context, env *Env) (Result, error) {
	st, res, err := rotateCheck(ctx, env)
	if res != nil || err != nil {
		return deref(res), err
	}
	rot := env.Record.Rotation
	if rot != nil && rot.UserName != st.user {
		return Result{Status: StatusFailed, Detail: fmt.Sprintf("the saved setup holds a rotation of user %s, but this setup's user is %s: run sesame rotate with the --smtp-user of that rotation", rot.UserName, st.user)}, nil
	}
	switch {
	case rot == nil:
		live, ok := st.key(st.entry.Username)
		if !ok || !live.Active {
			return Result{Status: StatusFailed, Detail: fmt.Sprintf("%s holds key %s, which is not an active key of %s: run `sesame --domain %s --region %s` to repair the setup first",
				st.path, st.entry.Username, st.user, env.Answers.Domain, env.Answers.Region)}, nil
		}
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("key %s of %s: %s", live.ID, st.user, describeKey(ctx, env, live))}, nil
	case rot.Phase == state.RotateDeactivated || rot.Phase == state.RotateDelete:
		env.Facts.Credentials = &Credentials{UserName: st.user, AccessKeyID: st.entry.Username, Host: st.entry.Host, Port: st.entry.Port, File: st.path}
		old := "is inactive"
		if rot.Phase == state.RotateDelete {
			old = "is being deleted"
		}
		return Result{Status: StatusDone, Detail: fmt.Sprintf("new key %s logged in and is in %s; old key %s %s", rot.NewKey, st.path, rot.OldKey, old)}, nil
	default:
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("continuing the rotation of key %s begun %s (stopped at: %s)", rot.OldKey, rot.StartedAt.UTC().Format("2006-01-02 15:04 MST"), phaseWords(rot.Phase))}, nil
	}
}

func phaseWords(p state.RotationPhase) string {
	switch p {
	case state.RotateCreate:
		return "creating the new key"
	case state.RotateWrite:
		return "writing the new key's password"
	case state.RotateWritten:
		return "testing the new key's SMTP login"
	case state.RotateDeactivate:
		return "deactivating the old key"
	case state.RotateDeactivated:
		return "waiting to delete the old key"
	case state.RotateDelete:
		return "deleting the old key"
	}
	return string(p)
}

// postfixDir is the Postfix sesame reloads with the new password: the one
// sesame installed the relay into, or --apply-postfix's; "" for none.
func rotatePostfixDir(env *Env) string {
	if env.Options.ApplyPostfix {
		return cmp.Or(env.Options.PostfixDir, DefaultPostfixDir)
	}
	return env.Record.PostfixDir
}

// extraKeys sorts the keys other than the one in use and the rotation's
// new key: provable orphans are deleted, keys the operator named are
// replaced, and any other key stops the rotation (the user has room for
// one more key only if it is alone).
func extraKeys(ctx context.Context, env *Env, st *rotState) (orphans, replace []string, err error) {
	newKey := ""
	if rot := env.Record.Rotation; rot != nil {
		newKey = rot.NewKey
	}
	for _, o := range st.sorted.orphans {
		if o.ID != newKey {
			orphans = append(orphans, o.ID)
		}
	}
	var blocking []string
	var lost []accessKey
	for _, kk := range st.sorted.kept {
		switch {
		case kk.ID == newKey:
		case slices.Contains(env.Options.ReplaceKeys, kk.ID):
			replace = append(replace, kk.ID)
		default:
			blocking = append(blocking, fmt.Sprintf("%s (%s; %s)", kk.ID, describeKey(ctx, env, kk.accessKey), kk.Note))
			if rot := env.Record.Rotation; rot != nil && rot.Phase == state.RotateCreate && madeDuringIntent(env.Record.KeyIntent, kk.accessKey) {
				lost = append(lost, kk.accessKey)
			}
		}
	}
	for _, id := range env.Options.ReplaceKeys {
		if id == st.entry.Username {
			return nil, nil, &InputError{Field: "replace-key", Flag: "--replace-key", Msg: fmt.Sprintf("%s is the key in use (in %s): sesame rotate replaces it by itself, after the new key logged in; --replace-key names a second key to delete first", id, st.path)}
		}
	}
	if len(blocking) == 1 && len(lost) == 1 {
		return nil, nil, lostKeyError(env, st, lost[0])
	}
	if len(blocking) > 0 {
		return nil, nil, &InputError{Field: "replace-key", Flag: "--replace-key", Msg: fmt.Sprintf(
			"%s has a second access key besides %s, the one in use, so IAM has no room for the new key; sesame never deletes a key it did not make unless you name it: %s. Name it with --replace-key to delete it first (whatever uses it stops working), or delete it yourself",
			st.user, st.entry.Username, strings.Join(blocking, "; "))}
	}
	return orphans, replace, nil
}

// lostKeyError is the rerun's answer after a rotation was killed during
// its CreateAccessKey: the one key that appeared since is most likely the
// one that run made (its secret died with the run, so nothing can use
// it), but a colleague's key made at the same moment would look the same.
// Timing is no proof, so sesame deletes it only when the operator names
// it; the message gives the one command that continues.
func lostKeyError(env *Env, st *rotState, k accessKey) error {
	intent := env.Record.KeyIntent
	const stamp = "2006-01-02 15:04:05 MST"
	a := env.Answers
	cmd := fmt.Sprintf("sesame rotate --domain %s --region %s --replace-key %s", a.Domain, a.Region, k.ID)
	return &InputError{Field: "replace-key", Flag: "--replace-key", Msg: fmt.Sprintf(
		"the rotation of key %s was stopped while IAM's CreateAccessKey was running (sesame recorded the intent at %s and no answer came). %s now has key %s, created %s, next to %s in use: "+
			"it is most likely the key that run made, whose secret died with it so nothing can use it, but a key someone else made at that moment would look the same, and timing is no proof. "+
			"sesame deleted nothing and made no new key (IAM allows two keys per user). If %s is not someone else's, continue the rotation (adding this run's --profile and --state-dir, if any); it deletes %s, then makes one new key:\n  %s\n",
		st.entry.Username, intent.StartedAt.UTC().Format(stamp), st.user, k.ID, k.Created.UTC().Format(stamp), st.entry.Username, k.ID, k.ID, cmd)}
}

// Plan implements Step: the changes still to make, in order.
func (k *RotateKey) Plan(ctx context.Context, env *Env) (Plan, error) {
	st, err := readRotation(ctx, env)
	if err != nil {
		return Plan{}, err
	}
	rot := env.Record.Rotation
	phase, oldKey, newKey := state.RotateCreate, st.entry.Username, "(new)"
	if rot != nil {
		phase, oldKey = rot.Phase, rot.OldKey
		if rot.NewKey != "" {
			newKey = rot.NewKey
		}
	}
	var p Plan
	add := func(c Change) { p.Changes = append(p.Changes, c) }
	if phase == state.RotateCreate || phase == state.RotateWrite {
		orphans, replace, err := extraKeys(ctx, env, st)
		if err != nil {
			return Plan{}, err
		}
		for _, id := range orphans {
			add(Change{Action: ActionDelete, Resource: "access-key", Name: id, Note: "made by sesame, whose run died before writing its password: nothing can use it"})
		}
		for _, id := range replace {
			add(Change{Action: ActionDelete, Resource: "access-key", Name: id, Note: "you named it with --replace-key: whatever uses it stops working"})
		}
		if phase == state.RotateWrite && !env.mtaTarget().FileHoldsUsername(st.path, rot.NewKey) {
			add(Change{Action: ActionDelete, Resource: "access-key", Name: rot.NewKey, Note: "the rotation's new key, whose password the interrupted run never wrote: nothing can use it; a fresh key replaces it"})
			newKey = "(new)"
		}
		if newKey == "(new)" {
			add(Change{Action: ActionCreate, Resource: "access-key", Name: st.user, Note: "IAM's second key slot: the old key keeps working meanwhile; the secret key is used once to derive the password and dropped"})
		}
		add(Change{Action: ActionWrite, Resource: "file", Name: st.path, Value: fmt.Sprintf("SMTP password of %s for %s", newKey, ses.SMTPHost(env.Answers.Region)),
			Current: "key " + oldKey, Note: "atomic, 0600; only sesame's line changes; the previous file is kept beside it as a backup"})
	}
	if phase == state.RotateCreate || phase == state.RotateWrite || phase == state.RotateWritten {
		if dir := rotatePostfixDir(env); dir != "" {
			add(Change{Action: ActionUpdate, Resource: "file", Name: dir + "/" + SASLPasswdFile, Value: "the new key's entry, then postmap and postfix reload", Note: "Postfix's copy of the password (installed by sesame); backed up first"})
		}
		add(Change{Action: ActionRequest, Resource: "smtp-login", Name: SMTPEndpointFor(env, st.entry), Value: "log in as " + newKey,
			Note: fmt.Sprintf("retried up to %s while the new key propagates; if it still fails, everything goes back to key %s and sesame says why", smtpcheck.DefaultLoginRetry, oldKey)})
	}
	if phase != state.RotateDeactivated && phase != state.RotateDelete {
		add(Change{Action: ActionUpdate, Resource: "access-key", Name: oldKey, Value: "Inactive", Current: "Active", Note: "only after the new key logged in"})
	}
	add(Change{Action: ActionDelete, Resource: "access-key", Name: oldKey, Note: graceWords(k.r.Grace)})
	p.NeedsApproval = true
	p.Summary = fmt.Sprintf("rotate the SMTP key of %s: %s → %s", st.user, oldKey, newKey)
	return p, nil
}

func graceWords(g time.Duration) string {
	if g <= 0 {
		return "right after it is deactivated, once the new key logged in and Postfix's queue holds no message deferred for a refused login"
	}
	return fmt.Sprintf("after --grace %s of being inactive (rerun sesame rotate then); until then it can be reactivated", g)
}

// Preflight implements Preflighter: before the rotation's first change, a
// Postfix to reload must be one sesame can reload here (root, its
// commands, a main.cf), or the new key would be made only to be rolled
// back.
func (k *RotateKey) Preflight(ctx context.Context, env *Env) ([]Change, error) {
	dir := rotatePostfixDir(env)
	if dir == "" || env.Record.Rotation != nil && env.Record.Rotation.Phase != state.RotateCreate {
		return nil, nil
	}
	if err := (postfix.Install{Dir: dir, Sbin: k.r.Sbin}).Preflight(); err != nil {
		why := "sesame installed the relay into the Postfix in " + dir + ", so the new password must be installed there too"
		if env.Options.ApplyPostfix {
			why = "--apply-postfix installs the new password into the Postfix in " + dir
		}
		return nil, fmt.Errorf("%s, and it cannot be from here (nothing was changed): %w", why, err)
	}
	return nil, nil
}

// SMTPEndpointFor is where the login test of an entry goes: --smtp-endpoint,
// or the entry's SES host and port.
func SMTPEndpointFor(env *Env, e mta.Credentials) string {
	return cmp.Or(env.Options.SMTPEndpoint, net.JoinHostPort(e.Host, strconv.Itoa(e.Port)))
}

// saveRotation saves the record; the rotation's intents are worthless if
// they are not on disk, so a failure stops the run.
func saveRotation(env *Env, what string) error {
	if err := env.SaveState(); err != nil {
		return fmt.Errorf("rotate: could not save %s to the state file, so nothing more is changed: %w", what, err)
	}
	return nil
}

// Apply implements Step: it takes the rotation from where the record says
// it stands to the old key inactive, saving each intent before its change.
func (k *RotateKey) Apply(ctx context.Context, env *Env) error {
	k.r.approved = true
	rec := env.Record
	for {
		st, err := readRotation(ctx, env)
		if err != nil {
			return err
		}
		rot := rec.Rotation
		if rot == nil {
			if _, ok := st.key(st.entry.Username); !ok {
				return fmt.Errorf("%s holds key %s, which is not a key of %s: run sesame to repair the setup first", st.path, st.entry.Username, st.user)
			}
			rec.Rotation = &state.Rotation{UserName: st.user, OldKey: st.entry.Username, Phase: state.RotateCreate, StartedAt: env.Clock.Now().UTC()}
			if err := saveRotation(env, "the start of the rotation"); err != nil {
				return err
			}
			continue
		}
		switch rot.Phase {
		case state.RotateCreate:
			if err := k.create(ctx, env, st); err != nil {
				return err
			}
		case state.RotateWrite:
			// A run died between CreateAccessKey and writing the
			// password: the file says which.
			if env.mtaTarget().FileHoldsUsername(st.path, rot.NewKey) {
				markWritten(rec, rot.NewKey, st.path)
				rot.Phase = state.RotateWritten
			} else {
				if _, ok := st.key(rot.NewKey); ok {
					if err := deleteKeyFor(ctx, env, k.ID(), st.user, st.arn, rot.NewKey); err != nil {
						return err
					}
				}
				rot.NewKey, rot.Phase = "", state.RotateCreate
			}
			if err := saveRotation(env, "the rotation's progress"); err != nil {
				return err
			}
		case state.RotateWritten:
			if err := k.test(ctx, env, st); err != nil {
				return err
			}
		case state.RotateDeactivate:
			_, err := env.Clients.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(st.user), AccessKeyId: aws.String(rot.OldKey), Status: iamtypes.StatusTypeInactive})
			var gone *iamtypes.NoSuchEntityException
			if err != nil && !errors.As(err, &gone) {
				return awsapi.Explain("iam:UpdateAccessKey", st.arn, err)
			}
			rot.Phase, rot.DeactivatedAt = state.RotateDeactivated, env.Clock.Now().UTC()
			rec.AccessKeyID = rot.NewKey
			env.Info(k.ID(), "deactivated the old access key %s of %s", rot.OldKey, st.user)
			if err := saveRotation(env, "that the old key is inactive"); err != nil {
				return err
			}
		default: // deactivated, delete: the retire-key step's
			return nil
		}
	}
}

// create makes room, records the intent, creates the new key and writes
// its password at once (the secret exists only in this call).
func (k *RotateKey) create(ctx context.Context, env *Env, st *rotState) error {
	rec, rot := env.Record, env.Record.Rotation
	region := env.Answers.Region
	orphans, replace, err := extraKeys(ctx, env, st)
	if err != nil {
		return err
	}
	for _, id := range append(orphans, replace...) {
		if err := deleteKeyFor(ctx, env, k.ID(), st.user, st.arn, id); err != nil {
			return err
		}
	}
	if len(orphans)+len(replace) > 0 {
		if st.keys, err = listKeys(ctx, env, st.user, st.arn); err != nil {
			return err
		}
	}
	// The intent: a key that appears without its id reaching the record
	// is shown as made around this time, and kept.
	rec.KeyIntent = &state.KeyIntent{UserName: st.user, StartedAt: env.Clock.Now().UTC()}
	if err := saveRotation(env, "the intent to create a key"); err != nil {
		return err
	}
	out, err := createAccessKeyOnce(ctx, env, &userState{name: st.user, arn: st.arn, keys: st.keys})
	if err != nil {
		return err
	}
	id := aws.ToString(out.AccessKey.AccessKeyId)
	rec.KeyIntent = nil
	rec.KeysPending = append(rec.KeysPending, state.PendingKey{ID: id, File: st.path})
	rot.NewKey, rot.Phase = id, state.RotateWrite
	if err := env.SaveState(); err != nil {
		env.Warn(k.ID(), "could not save that access key %s is sesame's (%v); writing its password anyway", id, err)
	}
	entry := mta.Credentials{Host: st.entry.Host, Port: st.entry.Port, Username: id,
		Password: mta.Secret(ses.SMTPPassword(aws.ToString(out.AccessKey.SecretAccessKey), region))}
	out = nil // the secret key goes no further than the derivation above
	if err := k.write(env, st, entry); err != nil {
		_, derr := env.Clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(st.user), AccessKeyId: aws.String(id)})
		if derr != nil {
			return fmt.Errorf("writing the new SMTP password failed (%w), and deleting the unusable key %s failed too (%v): run sesame rotate again; it deletes it. Key %s stays in use", err, id, derr, rot.OldKey)
		}
		rec.KeysPending = slices.DeleteFunc(rec.KeysPending, func(p state.PendingKey) bool { return p.ID == id })
		rec.Rotation = nil
		_ = env.SaveState()
		return fmt.Errorf("writing the new SMTP password failed, so the new key %s was deleted again and key %s stays in use: %w", id, rot.OldKey, err)
	}
	markWritten(rec, id, st.path)
	rot.Phase = state.RotateWritten
	env.Info(k.ID(), "created access key %s for %s and wrote its SMTP password for %s to %s (the previous file is %s)", id, st.user, region, st.path, rot.Backup)
	return saveRotation(env, "that the new password is written")
}

// write keeps the current sasl_passwd as a backup and writes the new
// entry into it (only sesame's line changes).
func (k *RotateKey) write(env *Env, st *rotState, entry mta.Credentials) error {
	rot := env.Record.Rotation
	old, err := os.ReadFile(st.path)
	if err != nil {
		return fmt.Errorf("read %s before replacing its key: %w", st.path, err)
	}
	backup := st.path + ".sesame-" + env.Clock.Now().UTC().Format("20060102T150405Z")
	if err := state.WriteFileAtomic(backup, old, 0o600); err != nil {
		return fmt.Errorf("back up %s before replacing its key: %w", st.path, err)
	}
	rot.Backup = backup
	if err := saveRotation(env, "where the backup of sasl_passwd is"); err != nil {
		return err
	}
	_, err = env.mtaTarget().WriteCredentials(env.Answers.OutDir, entry)
	return err
}

// postfixConfig is the relay configuration for the credentials e, for
// installing them into the Postfix in dir.
func (k *RotateKey) postfixConfig(env *Env, e mta.Credentials, dir string) postfix.Config {
	c := postfix.Config{Region: env.Answers.Region, Port: e.Port, Username: e.Username, Password: e.Password,
		PostfixDir: dir, Distro: postfix.DetectDistro(k.r.OSRelease)}
	if k.r.RelayOverride != nil {
		k.r.RelayOverride(&c)
	}
	return c
}

// install puts e into the Postfix sesame installed the relay into, postmaps
// and reloads it; nothing when there is none.
func (k *RotateKey) install(ctx context.Context, env *Env, e mta.Credentials) error {
	dir := rotatePostfixDir(env)
	if dir == "" {
		return nil
	}
	applied, err := postfix.Install{Dir: dir, Sbin: k.r.Sbin, Now: env.Clock.Now}.Apply(ctx, k.postfixConfig(env, e, dir))
	if err != nil {
		return err
	}
	switch {
	case applied.Note != "":
		env.Warn(k.ID(), "%s", applied.Note)
	case applied.Reloaded:
		env.Info(k.ID(), "installed key %s's password into %s/%s and reloaded Postfix", e.Username, dir, SASLPasswdFile)
	}
	return nil
}

// test installs the new password into Postfix and tests its SMTP login;
// a refused login rolls back to the old key.
func (k *RotateKey) test(ctx context.Context, env *Env, st *rotState) error {
	rot := env.Record.Rotation
	if st.entry.Username != rot.NewKey {
		return fmt.Errorf("%s holds key %s, not the rotation's new key %s: it changed while the rotation ran; restore it (the file before the rotation is %s) or run sesame to repair the setup",
			st.path, st.entry.Username, rot.NewKey, rot.Backup)
	}
	if err := k.install(ctx, env, st.entry); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return k.rollback(ctx, env, st, fmt.Errorf("installing the new password into Postfix failed: %w", err))
	}
	roots, err := smtpRoots(env.Options.SMTPCA)
	if err != nil {
		return err
	}
	endpoint := SMTPEndpointFor(env, st.entry)
	login := smtpcheck.Login{Endpoint: endpoint, Roots: roots, Implicit: smtpcheck.ImplicitTLS(endpoint),
		Username: st.entry.Username, Password: st.entry.Password, Region: env.Answers.Region}
	err = smtpcheck.LoginTest(ctx, env.Clock, smtpcheck.DefaultLoginRetry, login, func(attempt int, err error) {
		env.Emit(Event{Kind: EventRetrying, Step: k.ID(), Attempt: attempt, MaxAttempts: int(smtpcheck.DefaultLoginRetry / smtpcheck.RetryInterval),
			Detail: fmt.Sprintf("SES refused the new key's SMTP login (%v); a new access key takes a few seconds to work, retrying", err), Time: env.Clock.Now()})
	})
	if err != nil {
		if ctx.Err() != nil {
			return err // interrupted: the rerun tests again
		}
		return k.rollback(ctx, env, st, fmt.Errorf("the new key's SMTP login test failed: %w", err))
	}
	env.Info(k.ID(), "SMTP login as %s at %s ok", login.Username, endpoint)
	rot.Phase = state.RotateDeactivate
	return saveRotation(env, "that the new key logged in")
}

// rollback puts the old key back in use: the previous sasl_passwd
// restored, Postfix given it again and reloaded, the old key reactivated
// if it is inactive; then the new key, which nothing uses any more, is
// deleted and the rotation forgotten. It returns cause with what it did.
func (k *RotateKey) rollback(ctx context.Context, env *Env, st *rotState, cause error) error {
	rec, rot := env.Record, env.Record.Rotation
	data, err := os.ReadFile(rot.Backup)
	if err == nil {
		err = state.WriteFileAtomic(st.path, data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("%w\n  → rolling back failed too: %s could not be restored from %s (%v); restore it yourself, then run sesame rotate again", cause, st.path, rot.Backup, err)
	}
	done := []string{fmt.Sprintf("%s restored from %s", st.path, rot.Backup)}
	old, err := readSetupCredentials(env.mtaTarget(), env.Answers.OutDir, env.Answers.Region, st.entry.Port)
	if err != nil || old.Username != rot.OldKey {
		return fmt.Errorf("%w\n  → rolling back: %s was restored but does not hold the old key %s (%v): check it, then run sesame rotate again", cause, st.path, rot.OldKey, err)
	}
	var problems []string
	if dir := rotatePostfixDir(env); dir != "" {
		if err := k.install(ctx, env, old); err != nil {
			problems = append(problems, fmt.Sprintf("reinstalling the old password into Postfix failed (%v): run `sesame postfix` or restore %s/%s from its .sesame-* backup and postfix reload", err, dir, SASLPasswdFile))
		} else {
			done = append(done, "Postfix given the old password again and reloaded")
		}
	}
	if ok, found := st.key(rot.OldKey); found && !ok.Active {
		_, err := env.Clients.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(st.user), AccessKeyId: aws.String(rot.OldKey), Status: iamtypes.StatusTypeActive})
		if err != nil {
			problems = append(problems, fmt.Sprintf("reactivating the old key failed: %v", awsapi.Explain("iam:UpdateAccessKey", st.arn, err)))
		} else {
			done = append(done, "old key "+rot.OldKey+" reactivated")
		}
	}
	if len(problems) == 0 {
		if err := deleteKeyFor(ctx, env, k.ID(), st.user, st.arn, rot.NewKey); err != nil {
			problems = append(problems, fmt.Sprintf("deleting the unused new key %s failed (%v): the next sesame rotate deletes it", rot.NewKey, err))
		} else {
			done = append(done, "new key "+rot.NewKey+" deleted")
		}
		rec.Rotation = nil
		rec.AccessKeyID = rot.OldKey
	}
	if err := env.SaveState(); err != nil {
		problems = append(problems, fmt.Sprintf("saving the state file failed: %v", err))
	}
	msg := fmt.Sprintf("%v\n  → rolled back to key %s: %s", cause, rot.OldKey, strings.Join(done, "; "))
	if len(problems) > 0 {
		msg += "\n  → but: " + strings.Join(problems, "; ")
	}
	return errors.New(msg)
}

// RetireKey is the "retire-key" step: it deletes the old key once the new
// one logged in and, with --grace, once the old key was inactive that
// long; with no grace, right away unless Postfix's queue holds messages
// deferred for a refused login (then the old key may still be in use
// somewhere, and it stays inactive for the operator to look).
type RetireKey struct{ r *rotation }

// ID implements Step.
func (*RetireKey) ID() string { return "retire-key" }

// Title implements Step.
func (*RetireKey) Title() string { return "Delete the old SMTP key" }

// Check implements Step.
func (k *RetireKey) Check(ctx context.Context, env *Env) (Result, error) {
	rot := env.Record.Rotation
	switch {
	case rot == nil:
		if env.Options.DryRun {
			return Result{Status: StatusSkipped, Detail: "the old key is deleted once the new one logged in (see the rotate-key plan)"}, nil
		}
		if id := env.Record.AccessKeyID; id != "" {
			return Result{Status: StatusDone, Detail: "no old key left: " + id + " is the only key sesame uses"}, nil
		}
		return Result{Status: StatusSkipped, Detail: "no rotation in progress"}, nil
	case rot.Phase != state.RotateDeactivated && rot.Phase != state.RotateDelete:
		return Result{Status: StatusSkipped, Detail: "the new key has not logged in yet: the old key " + rot.OldKey + " stays"}, nil
	}
	if due := rot.DeactivatedAt.Add(k.r.Grace); rot.Phase == state.RotateDeactivated && env.Clock.Now().Before(due) {
		return Result{Status: StatusPending, Detail: fmt.Sprintf("old key %s is inactive since %s and is deleted after the grace period, at %s: run sesame rotate again then (or reactivate it if something still needs it)",
			rot.OldKey, rot.DeactivatedAt.UTC().Format("2006-01-02 15:04 MST"), due.UTC().Format("2006-01-02 15:04 MST"))}, nil
	}
	if rot.Phase == state.RotateDelete {
		return Result{Status: StatusTodo, Detail: fmt.Sprintf("finishing the deletion of old key %s (a run stopped while deleting it); new key %s is in use", rot.OldKey, rot.NewKey)}, nil
	}
	return Result{Status: StatusTodo, Detail: fmt.Sprintf("old key %s is inactive; new key %s is in use", rot.OldKey, rot.NewKey)}, nil
}

// Plan implements Step. The deletion was approved with the rotate-key plan
// when it ran in this run.
func (k *RetireKey) Plan(ctx context.Context, env *Env) (Plan, error) {
	rot := env.Record.Rotation
	if rot == nil {
		return Plan{}, nil
	}
	return Plan{
		Summary:       fmt.Sprintf("delete the old access key %s of %s", rot.OldKey, rot.UserName),
		Changes:       []Change{{Action: ActionDelete, Resource: "access-key", Name: rot.OldKey, Current: "Inactive", Note: "the new key " + rot.NewKey + " logged in and is in use"}},
		NeedsApproval: !k.r.approved,
	}, nil
}

// Apply implements Step: the queue check, the intent, the deletion.
func (k *RetireKey) Apply(ctx context.Context, env *Env) error {
	rec, rot := env.Record, env.Record.Rotation
	if rot == nil {
		return nil
	}
	if due := rot.DeactivatedAt.Add(k.r.Grace); rot.Phase == state.RotateDeactivated && env.Clock.Now().Before(due) {
		return &PendingError{Step: k.ID(), Detail: fmt.Sprintf("old key %s is deleted after the grace period, at %s", rot.OldKey, due.UTC().Format("2006-01-02 15:04 MST"))}
	}
	if dir := rotatePostfixDir(env); dir != "" && rot.Phase == state.RotateDeactivated {
		ids, err := postfix.Install{Dir: dir, Sbin: k.r.Sbin}.DeferredForAuth(ctx)
		if err != nil {
			return fmt.Errorf("%w: the old key %s stays (inactive) until the queue can be read", err, rot.OldKey)
		}
		if len(ids) > 0 {
			return fmt.Errorf("Postfix's queue holds %d message(s) deferred for a refused SMTP login (%s): the old key %s stays (inactive) so you can look; see `postqueue -p`, reactivate the key if something still needs it, then run sesame rotate again",
				len(ids), strings.Join(ids, ", "), rot.OldKey)
		}
	}
	rot.Phase = state.RotateDelete
	if err := saveRotation(env, "the intent to delete the old key"); err != nil {
		return err
	}
	arn := fmt.Sprintf("arn:aws:iam::%s:user/%s", accountID(env), rot.UserName)
	if err := deleteKeyFor(ctx, env, k.ID(), rot.UserName, arn, rot.OldKey); err != nil {
		return err
	}
	rec.Rotation = nil
	rec.AccessKeyID = rot.NewKey
	return saveRotation(env, "the end of the rotation")
}

func accountID(env *Env) string {
	if env.Facts.Account != nil {
		return env.Facts.Account.ID
	}
	return "ACCOUNT"
}

// KeyAge reports the age of the access key whose SMTP password is on disk,
// for `sesame status`: a warning naming `sesame rotate` when it is older
// than KeyMaxAge. created is the key's CreateDate.
func KeyAge(id string, created, now time.Time) (detail, warning string) {
	age := now.Sub(created)
	detail = fmt.Sprintf("key %s created %s (%s ago)", id, created.UTC().Format("2006-01-02"), roundAge(age))
	if age > KeyMaxAge {
		warning = fmt.Sprintf("access key %s is %d days old, past the %d days security reviews allow: run `sesame rotate` to replace it with no downtime", id, int(age.Hours()/24), int(KeyMaxAge.Hours()/24))
	}
	return detail, warning
}
