package state

import "time"

// Answers are the operator's answers to the wizard's questions. Each has a
// flag and a SESAME_* variable; the state file keeps them so a resumed run
// asks nothing twice.
type Answers struct {
	Domain   string `json:"domain"`
	Region   string `json:"region"`
	Profile  string `json:"profile,omitempty"`
	SMTPUser string `json:"smtp_user,omitempty"`
	// MailFrom is the MAIL FROM subdomain label ("mail"); empty for none.
	MailFrom string `json:"mail_from,omitempty"`
	// MailFromAsked is true once the operator answered (empty is an answer).
	MailFromAsked bool   `json:"mail_from_asked,omitempty"`
	DMARC         bool   `json:"dmarc,omitempty"`
	DMARCAsked    bool   `json:"dmarc_asked,omitempty"`
	ZoneID        string `json:"zone_id,omitempty"`
	// ZoneIDSet is true when this run gave the zone id (an empty --zone-id
	// clears a saved one); it is never saved.
	ZoneIDSet bool `json:"-"`
	// OutDir is where the relay files (and the SMTP password) are written.
	OutDir string `json:"out_dir,omitempty"`
	// PostfixDir is the Postfix configuration directory the relay was
	// installed into (--postfix-dir with --apply-postfix), so status
	// checks that relay's health.
	PostfixDir string `json:"postfix_dir,omitempty"`
	// TestTo is the address the operator chose, when the sandbox step
	// offered it, for the relay step's test message, kept until SES
	// accepts that message: a run stopped while it waited for the address
	// to be verified sends the test when resumed. An address, not a secret.
	TestTo string `json:"test_to,omitempty"`
}

// Record is what sesame made, so a later run can tell its own resources
// from the operator's. It holds ids only, never a secret.
type Record struct {
	// UserCreated is true when sesame created the IAM user: its CreateUser
	// answer said so, or the user carries sesame's managed-by tag (the
	// answer may have been lost while the user was made).
	UserCreated bool `json:"user_created,omitempty"`
	// KeyIntent is written before CreateAccessKey is called and cleared
	// when the call answered. A key made around an intent that was never
	// cleared may be the one whose answer was lost, or a colleague's:
	// timing is no proof, so the next run only says so, and keeps it.
	KeyIntent *KeyIntent `json:"key_intent,omitempty"`
	// AccessKeyID is the key whose SMTP password is on disk.
	AccessKeyID string `json:"access_key_id,omitempty"`
	// KeysCreated lists every access key id sesame created on this user
	// and whose SMTP password it wrote into a sasl_passwd (from there it
	// may have been installed into Postfix). These keys may be in use:
	// they are never deleted unless the operator names one
	// (--replace-key). Older sesame versions added a key here only after
	// writing its password too, so their state files mean the same.
	KeysCreated []string `json:"keys_created,omitempty"`
	// KeyFiles says, for keys of KeysCreated, which sasl_passwd sesame
	// wrote each one's password to, so a plan can say where it is used.
	KeyFiles map[string]string `json:"key_files,omitempty"`
	// KeysPending are the keys IAM returned to sesame whose password was
	// not written yet: saved right after CreateAccessKey answers, before
	// the password is written. A pending key whose password is in no file
	// is provably unusable (its secret died with the run) and is the only
	// kind of key sesame deletes on its own.
	KeysPending []PendingKey `json:"keys_pending,omitempty"`
	// IdentityCreated is true when sesame created the SES identity.
	IdentityCreated bool `json:"identity_created,omitempty"`
	// ZoneID is the hosted zone the DNS records went into.
	ZoneID string `json:"zone_id,omitempty"`
	// DNSWritten lists every record set sesame created in a hosted zone,
	// or merged a value into, with exactly what it wrote, so `sesame
	// remove` takes back its own values and nothing else. Saved before
	// the change is submitted and dropped again if the change is refused.
	DNSWritten []DNSWrite `json:"dns_written,omitempty"`
	// ChangeID is the last Route 53 change sesame submitted.
	ChangeID string `json:"change_id,omitempty"`
	// ProductionCaseID is the support case of a production-access request.
	ProductionCaseID string `json:"production_case_id,omitempty"`
	// Files are the files sesame wrote, by role ("sasl_passwd", "main.cf", ...).
	Files map[string]string `json:"files,omitempty"`
	// PostfixDir is the Postfix configuration directory sesame installed
	// the relay into (--apply-postfix), so `sesame rotate` knows to
	// install the new password there, postmap and reload.
	PostfixDir string `json:"postfix_dir,omitempty"`
	// Rotation is a key rotation in progress (`sesame rotate`): saved
	// before each of its changes, so a rerun continues where a killed one
	// stopped; nil when none is.
	Rotation *Rotation `json:"rotation,omitempty"`
}

// RotationPhase is how far a key rotation got. Each phase is saved before
// the change it names is made (the intent), so a run killed during the
// change finds it and asks AWS and the disk whether it took effect.
type RotationPhase string

// The phases of a rotation, in order.
const (
	// RotateCreate: about to create the new key (its id is not known).
	RotateCreate RotationPhase = "create"
	// RotateWrite: the new key exists (NewKey); its password is being
	// written to sasl_passwd, the previous file kept as Backup.
	RotateWrite RotationPhase = "write"
	// RotateWritten: sasl_passwd holds the new key; Postfix is being
	// reloaded and the new key's SMTP login tested.
	RotateWritten RotationPhase = "written"
	// RotateDeactivate: the new key logged in; the old key is being
	// made inactive.
	RotateDeactivate RotationPhase = "deactivate"
	// RotateDeactivated: the old key is inactive since DeactivatedAt,
	// and waits for the grace period before it is deleted.
	RotateDeactivated RotationPhase = "deactivated"
	// RotateDelete: the old key is being deleted.
	RotateDelete RotationPhase = "delete"
)

// Rotation is a key rotation in progress. It holds ids and paths only.
type Rotation struct {
	UserName string `json:"user_name"`
	// OldKey is the key in use when the rotation began.
	OldKey string `json:"old_key"`
	// NewKey is the key the rotation made, once IAM answered.
	NewKey string        `json:"new_key,omitempty"`
	Phase  RotationPhase `json:"phase"`
	// StartedAt is when the rotation began (before CreateAccessKey).
	StartedAt time.Time `json:"started_at"`
	// Backup is the copy of sasl_passwd taken before the new password
	// was written into it.
	Backup string `json:"backup,omitempty"`
	// DeactivatedAt is when the old key was made inactive.
	DeactivatedAt time.Time `json:"deactivated_at,omitzero"`
}

// DNSWrite is one record set sesame wrote: created whole, or merged into
// (values added to a TXT set that was there, or include:amazonses.com
// added to its SPF record). Values are in the zone's wire form.
type DNSWrite struct {
	ZoneID string `json:"zone_id"`
	// Name is the set's name, lower case with its trailing dot.
	Name string `json:"name"`
	Type string `json:"type"`
	// Created is true when the set did not exist: Values are all of it.
	Created bool `json:"created,omitempty"`
	// Values are the values sesame wrote: the whole set when Created,
	// else the values it added to the set that was there.
	Values []string `json:"values,omitempty"`
	// SPFBefore and SPFAfter are, when sesame added include:amazonses.com
	// to an SPF record that was there, that record before and after.
	SPFBefore string `json:"spf_before,omitempty"`
	SPFAfter  string `json:"spf_after,omitempty"`
}

// PendingKey is an access key IAM returned to sesame, and the sasl_passwd
// its password was about to be written to.
type PendingKey struct {
	ID   string `json:"id"`
	File string `json:"file"`
}

// KeyIntent records that sesame was about to create an access key.
type KeyIntent struct {
	UserName  string    `json:"user_name"`
	StartedAt time.Time `json:"started_at"`
}

// ProductionAnswers are the answers to the production-access request's
// questions given so far (the wizard's steps.ProductionRequest, as saved).
type ProductionAnswers struct {
	MailType        string   `json:"mail_type,omitempty"`
	WebsiteURL      string   `json:"website_url,omitempty"`
	UseCase         string   `json:"use_case,omitempty"`
	ContactLanguage string   `json:"contact_language,omitempty"`
	Contacts        []string `json:"contacts"` // nil: not asked yet
}
