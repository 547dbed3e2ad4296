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
	// ChangeID is the last Route 53 change sesame submitted.
	ChangeID string `json:"change_id,omitempty"`
	// ProductionCaseID is the support case of a production-access request.
	ProductionCaseID string `json:"production_case_id,omitempty"`
	// Files are the files sesame wrote, by role ("sasl_passwd", "main.cf", ...).
	Files map[string]string `json:"files,omitempty"`
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
