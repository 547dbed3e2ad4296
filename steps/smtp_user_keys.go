package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/state"
)

// maxAccessKeys is IAM's hard limit of access keys per user.
const maxAccessKeys = 2

// intentSkew widens the window in which a key counts as made around a
// recorded intent: clocks of this machine and IAM may differ by this much.
const intentSkew = time.Minute

// intentWindow bounds how long after a recorded intent a key is said to
// have been made around it. This is shown to the operator as a hint only:
// timing is no proof of who made a key (a colleague may have made one in
// the same minute), so no key is ever deleted because of it.
const intentWindow = 10 * time.Minute

// accessKey is one of the user's keys, as ListAccessKeys shows it.
type accessKey struct {
	ID      string
	Active  bool
	Created time.Time
}

// orphanKey is a key sesame can prove it made and nothing can use: IAM
// returned its id to sesame (recorded as pending) and its password is in
// no file, so its secret died with the run that made it.
type orphanKey struct {
	ID   string
	Note string
}

// keptKey is a key of the user that sesame leaves alone unless the
// operator names it (--replace-key): a key whose password sesame wrote
// (it may be in use), or a key sesame cannot prove it made.
type keptKey struct {
	accessKey
	Note string
}

func listKeys(ctx context.Context, env *Env, user, arn string) ([]accessKey, error) {
	out, err := env.Clients.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, awsapi.Explain("iam:ListAccessKeys", arn, err)
	}
	keys := make([]accessKey, 0, len(out.AccessKeyMetadata))
	for _, m := range out.AccessKeyMetadata {
		keys = append(keys, accessKey{ID: aws.ToString(m.AccessKeyId), Active: m.Status == iamtypes.StatusTypeActive, Created: aws.ToTime(m.CreateDate)})
	}
	return keys, nil
}

// keySort is what sesame knows about each of the user's keys.
type keySort struct {
	// orphans are provably sesame's and unusable: deleted on a user
	// sesame made.
	orphans []orphanKey
	// lost are provably sesame's and unusable, on a user sesame did not
	// make: the operator is told, and the key stays.
	lost []orphanKey
	// kept are every other key but the one in the current sasl_passwd.
	kept []keptKey
	// written are pending keys whose password did reach their file (the
	// run died after writing it): the record is to list them as written.
	written []state.PendingKey
}

// sortKeys sorts the user's keys by what sesame can prove about them.
// Only a key whose id IAM returned to sesame (recorded as pending before
// its password was written) and whose password is in no file counts as
// sesame's to delete: nothing else is proof. Keys sesame wrote into a
// sasl_passwd (this --out's or an earlier one's) may be in use by an
// installed relay, and keys sesame never saw the id of may be anyone's:
// both are kept. inFile is the key named in the current sasl_passwd; t
// is the MTA whose credentials files name keys.
func sortKeys(rec *state.Record, managed bool, keys []accessKey, inFile string, t mta.Target) keySort {
	var ks keySort
	for _, k := range keys {
		if k.ID == inFile {
			continue
		}
		if i := slices.IndexFunc(rec.KeysPending, func(p state.PendingKey) bool { return p.ID == k.ID }); i >= 0 {
			p := rec.KeysPending[i]
			switch {
			case t.FileHoldsUsername(p.File, k.ID):
				ks.written = append(ks.written, p)
				ks.kept = append(ks.kept, keptKey{k, fmt.Sprintf("made by sesame; its SMTP password is in %s, which may be in use: kept unless you name it with --replace-key", p.File)})
			case managed:
				ks.orphans = append(ks.orphans, orphanKey{k.ID, fmt.Sprintf("made by sesame, which got its id but never wrote its password (to %s): nothing can use it", p.File)})
			default:
				ks.lost = append(ks.lost, orphanKey{k.ID, fmt.Sprintf("made by sesame, which got its id but never wrote its password (to %s)", p.File)})
			}
			continue
		}
		if slices.Contains(rec.KeysCreated, k.ID) {
			where := rec.KeyFiles[k.ID]
			if where == "" {
				where = "a sasl_passwd"
			}
			ks.kept = append(ks.kept, keptKey{k, fmt.Sprintf("made by sesame, which wrote its SMTP password to %s; a relay may use it (installed into Postfix?): kept unless you name it with --replace-key", where)})
			continue
		}
		note := "not made by this setup as far as sesame can prove: kept unless you name it with --replace-key"
		if madeDuringIntent(rec.KeyIntent, k) {
			note = fmt.Sprintf("made around %s, when a CreateAccessKey of sesame's went unanswered: it may be that key, or someone else's; sesame cannot tell, so it is kept unless you name it with --replace-key",
				rec.KeyIntent.StartedAt.UTC().Format("2006-01-02 15:04:05 MST"))
		}
		ks.kept = append(ks.kept, keptKey{k, note})
	}
	return ks
}

// madeDuringIntent reports whether key k was made around an intent that
// was never cleared (a CreateAccessKey whose answer never came). It is a
// hint for the operator, never a reason to delete.
func madeDuringIntent(intent *state.KeyIntent, k accessKey) bool {
	return intent != nil && !k.Created.Before(intent.StartedAt.Add(-intentSkew)) && k.Created.Before(intent.StartedAt.Add(intentWindow))
}

// noteKeys records what the keys' sort proved: pending keys whose
// password reached their file are written keys now, and pending keys no
// longer on the user are forgotten. It reports whether rec changed.
func noteKeys(rec *state.Record, keys []accessKey, ks keySort) bool {
	changed := false
	for _, p := range ks.written {
		markWritten(rec, p.ID, p.File)
		changed = true
	}
	n := len(rec.KeysPending)
	rec.KeysPending = slices.DeleteFunc(rec.KeysPending, func(p state.PendingKey) bool {
		return !slices.ContainsFunc(keys, func(k accessKey) bool { return k.ID == p.ID })
	})
	return changed || n != len(rec.KeysPending)
}

// markWritten records that key id's password is in file: it leaves the
// pending list and joins the keys that may be in use.
func markWritten(rec *state.Record, id, file string) {
	rec.KeysPending = slices.DeleteFunc(rec.KeysPending, func(p state.PendingKey) bool { return p.ID == id })
	if !slices.Contains(rec.KeysCreated, id) {
		rec.KeysCreated = append(rec.KeysCreated, id)
	}
	if rec.KeyFiles == nil {
		rec.KeyFiles = map[string]string{}
	}
	rec.KeyFiles[id] = file
}

// describeKey is one line about a key: its age, status and last use.
func describeKey(ctx context.Context, env *Env, k accessKey) string {
	age := env.Clock.Now().Sub(k.Created)
	status := "active"
	if !k.Active {
		status = "inactive"
	}
	s := fmt.Sprintf("%s, created %s (%s ago)", status, k.Created.UTC().Format("2006-01-02"), roundAge(age))
	out, err := env.Clients.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
	switch {
	case err != nil:
		s += ", last use unknown"
	case out.AccessKeyLastUsed == nil || out.AccessKeyLastUsed.LastUsedDate == nil:
		s += ", never used"
	default:
		lu := out.AccessKeyLastUsed
		s += fmt.Sprintf(", last used %s (%s in %s)", lu.LastUsedDate.UTC().Format("2006-01-02 15:04 MST"), aws.ToString(lu.ServiceName), aws.ToString(lu.Region))
	}
	return s
}

func roundAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// named returns the keys in keys that the operator named for replacement.
func named(env *Env, keys []accessKey) []accessKey {
	var out []accessKey
	for _, k := range keys {
		if env.replaceKey(k.ID) {
			out = append(out, k)
		}
	}
	return out
}

// chooseReplacement makes room for a new key when the user is at IAM's
// limit: the operator names the key to delete (--replace-key, or the
// question). sesame never picks one itself. The answer is kept in
// env.Decisions.ReplaceKeys so Plan and Apply agree.
func chooseReplacement(ctx context.Context, env *Env, user string, keys []accessKey, notes map[string]string) error {
	if len(keys)-len(named(env, keys)) < maxAccessKeys {
		return nil
	}
	opts := make([]Option, 0, len(keys))
	var about []string
	for _, k := range keys {
		d := describeKey(ctx, env, k)
		if n := notes[k.ID]; n != "" {
			d += "; " + n
		}
		opts = append(opts, Option{Value: k.ID, Label: k.ID, Detail: d})
		about = append(about, k.ID+" ("+d+")")
	}
	id, err := env.Prompt.Choose(ctx, Question{
		ID: "replace-key", Step: "smtp-user", Flag: "--replace-key",
		Title:  fmt.Sprintf("%s already has %d access keys, IAM's limit. Which one should sesame delete to make room for the SMTP key?", user, maxAccessKeys),
		Detail: "sesame never deletes a key you do not name. Whatever uses the key you pick stops working.",
	}, opts)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			ie.Msg = fmt.Sprintf("%s has %d access keys (IAM's limit) and sesame deletes none it cannot prove unused: name the one to delete with --replace-key (%s), or give this setup its own user with --smtp-user: %s",
				user, maxAccessKeys, strings.Join(keyIDs(keys), " or "), strings.Join(about, "; "))
		}
		return err
	}
	if !slices.ContainsFunc(keys, func(k accessKey) bool { return k.ID == id }) {
		return &InputError{Field: "replace-key", Flag: "--replace-key", Msg: fmt.Sprintf("%q is not one of %s's keys (%s)", id, user, strings.Join(keyIDs(keys), ", "))}
	}
	env.Decisions.ReplaceKeys = append(env.Decisions.ReplaceKeys, id)
	return nil
}

func keyIDs(keys []accessKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}

// deleteKey deletes one of the user's keys; one already gone is fine.
func deleteKey(ctx context.Context, env *Env, user, arn, id string) error {
	return deleteKeyFor(ctx, env, "smtp-user", user, arn, id)
}

// deleteKeyFor is deleteKey reported as step's (rotate's steps use it too).
func deleteKeyFor(ctx context.Context, env *Env, step, user, arn, id string) error {
	_, err := env.Clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	var gone *iamtypes.NoSuchEntityException
	if err != nil && !errors.As(err, &gone) {
		return awsapi.Explain("iam:DeleteAccessKey", arn, err)
	}
	env.Record.KeysCreated = slices.DeleteFunc(env.Record.KeysCreated, func(k string) bool { return k == id })
	env.Record.KeysPending = slices.DeleteFunc(env.Record.KeysPending, func(p state.PendingKey) bool { return p.ID == id })
	delete(env.Record.KeyFiles, id)
	if env.Record.AccessKeyID == id {
		env.Record.AccessKeyID = ""
	}
	env.Info(step, "deleted access key %s of %s", id, user)
	return env.SaveState()
}
