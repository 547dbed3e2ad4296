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
)

// maxAccessKeys is IAM's hard limit of access keys per user.
const maxAccessKeys = 2

// intentSkew widens the window in which a key counts as made by a run
// that died: clocks of this machine and IAM may differ by this much.
const intentSkew = time.Minute

// intentWindow bounds how long after a recorded intent a key still counts
// as that run's: CreateAccessKey answers in seconds, so a key made much
// later was made by someone else (another region's setup, the operator).
const intentWindow = 10 * time.Minute

// accessKey is one of the user's keys, as ListAccessKeys shows it.
type accessKey struct {
	ID      string
	Active  bool
	Created time.Time
}

// orphanKey is a key sesame made whose password is not on disk.
type orphanKey struct {
	ID   string
	Note string
}

func listKeys(ctx context.Context, env *Env, user, arn string) ([]accessKey, error) {
	out, err := env.Clients.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, Explain("iam:ListAccessKeys", arn, err)
	}
	keys := make([]accessKey, 0, len(out.AccessKeyMetadata))
	for _, m := range out.AccessKeyMetadata {
		keys = append(keys, accessKey{ID: aws.ToString(m.AccessKeyId), Active: m.Status == iamtypes.StatusTypeActive, Created: aws.ToTime(m.CreateDate)})
	}
	return keys, nil
}

// findOrphans returns the keys sesame made on a user it made whose
// password is not on disk: keys it recorded, and keys made around a
// recorded intent (a run that died between CreateAccessKey and writing
// the password). inFile is the key named in sasl_passwd, never an orphan.
// Keys on a user sesame did not make are the operator's: never orphans.
func findOrphans(rec *Record, user string, keys []accessKey, inFile, path string) []orphanKey {
	if !rec.UserCreated {
		return nil
	}
	var out []orphanKey
	for _, k := range keys {
		if k.ID == inFile {
			continue
		}
		switch {
		case slices.Contains(rec.KeysCreated, k.ID):
			out = append(out, orphanKey{k.ID, fmt.Sprintf("made by sesame; its password is no longer in %s", path)})
		case madeDuringIntent(rec.KeyIntent, user, k):
			out = append(out, orphanKey{k.ID, "made by sesame, its password was never saved (the run stopped before writing it)"})
		}
	}
	return out
}

// madeDuringIntent reports whether key k of user was made by the run that
// recorded intent: at or after its start (less clock skew), within the
// window a CreateAccessKey call takes.
func madeDuringIntent(intent *KeyIntent, user string, k accessKey) bool {
	return intent != nil && strings.EqualFold(intent.UserName, user) &&
		!k.Created.Before(intent.StartedAt.Add(-intentSkew)) && k.Created.Before(intent.StartedAt.Add(intentWindow))
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
		if slices.Contains(env.Options.ReplaceKeys, k.ID) {
			out = append(out, k)
		}
	}
	return out
}

// chooseReplacement makes room for a new key when the user is at IAM's
// limit: the operator names the key to delete (--replace-key, or the
// question). sesame never picks one itself. The answer is kept in
// env.Options.ReplaceKeys so Plan and Apply agree.
func chooseReplacement(ctx context.Context, env *Env, user string, keys []accessKey) error {
	if len(keys)-len(named(env, keys)) < maxAccessKeys {
		return nil
	}
	opts := make([]Option, 0, len(keys))
	for _, k := range keys {
		opts = append(opts, Option{Value: k.ID, Label: k.ID, Detail: describeKey(ctx, env, k)})
	}
	id, err := env.Prompt.Choose(ctx, Question{
		ID: "replace-key", Step: "smtp-user", Flag: "--replace-key",
		Title:  fmt.Sprintf("%s already has %d access keys, IAM's limit. Which one should sesame delete to make room for the SMTP key?", user, maxAccessKeys),
		Detail: "sesame never deletes a key you do not name. Whatever uses the key you pick stops working.",
	}, opts)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			ie.Msg = fmt.Sprintf("%s has %d access keys (IAM's limit): name the one to delete with --replace-key (%s)", user, maxAccessKeys, strings.Join(keyIDs(keys), " or "))
		}
		return err
	}
	if !slices.ContainsFunc(keys, func(k accessKey) bool { return k.ID == id }) {
		return &InputError{Field: "replace-key", Flag: "--replace-key", Msg: fmt.Sprintf("%q is not one of %s's keys (%s)", id, user, strings.Join(keyIDs(keys), ", "))}
	}
	env.Options.ReplaceKeys = append(env.Options.ReplaceKeys, id)
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
	_, err := env.Clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	var gone *iamtypes.NoSuchEntityException
	if err != nil && !errors.As(err, &gone) {
		return Explain("iam:DeleteAccessKey", arn, err)
	}
	env.Record.KeysCreated = slices.DeleteFunc(env.Record.KeysCreated, func(k string) bool { return k == id })
	if env.Record.AccessKeyID == id {
		env.Record.AccessKeyID = ""
	}
	env.Info("smtp-user", "deleted access key %s of %s", id, user)
	return env.SaveState()
}
