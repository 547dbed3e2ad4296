package steps

import (
	"errors"
	"io/fs"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/mta/postfix"
	"github.com/sesame-tool/sesame/steps/ses"
)

// The relay file roles and names, as the wizard's records and reports use
// them (Postfix's, the MTA sesame configures).
const (
	RoleMainCF        = postfix.RoleMainCF
	RoleSASLPasswd    = postfix.RoleSASLPasswd
	RoleApplyScript   = postfix.RoleApplyScript
	SASLPasswdFile    = postfix.SASLPasswdFile
	MainCFSnippetFile = postfix.MainCFSnippetFile
	ApplyScriptFile   = postfix.ApplyScriptFile
	DefaultPostfixDir = postfix.DefaultDir
)

// mtaTarget is the MTA whose files hold the SMTP credentials: env.MTA, or
// Postfix. This is the line that chooses it.
func (e *Env) mtaTarget() mta.Target {
	if e.MTA != nil {
		return e.MTA
	}
	return postfix.Target{}
}

// ValidatePostfixDir checks --postfix-dir (postfix.ValidateDir), as the
// *InputError of that flag.
func ValidatePostfixDir(dir string) error {
	var de *postfix.DirError
	if err := postfix.ValidateDir(dir); errors.As(err, &de) {
		return &InputError{Field: "postfix-dir", Flag: "--postfix-dir", Msg: de.Msg}
	} else if err != nil {
		return err
	}
	return nil
}

// ValidateRelayConfig refuses a config whose files Postfix cannot use: the
// region and port by SES's rules (unless Host overrides SES, as only the
// real-Postfix test does), then --postfix-dir and the credentials.
func ValidateRelayConfig(c postfix.Config) error {
	if c.Host == "" {
		if err := ValidateRegion(c.Region); err != nil {
			return err
		}
		if err := ValidateSMTPPort(c.Port); err != nil {
			return err
		}
	}
	if err := ValidatePostfixDir(c.PostfixDir); err != nil {
		return err
	}
	return c.Validate()
}

// WriteRelayFiles validates c (ValidateRelayConfig), refuses to write when
// a file in dir is not sesame's (a conflict, as a plan shows it) and
// writes the relay files (postfix.WriteFiles), returning their paths by role.
func WriteRelayFiles(dir string, c postfix.Config) (map[string]string, error) {
	if err := ValidateRelayConfig(c); err != nil {
		return nil, err
	}
	if cs := RelayFileConflicts(postfix.Target{}, dir); len(cs) > 0 {
		return nil, conflictError(Plan{Changes: cs})
	}
	return postfix.WriteFiles(dir, c)
}

// RelayFileConflicts are the target's conflicts in dir as plan changes.
func RelayFileConflicts(t mta.Target, dir string) []Change {
	var out []Change
	for _, c := range t.Conflicts(dir) {
		out = append(out, Change{Action: ActionConflict, Resource: "file", Name: c.Path, Note: c.Note})
	}
	return out
}

// postfixChanges are --apply-postfix's changes as plan changes.
func postfixChanges(cs []postfix.Change) []Change {
	var out []Change
	for _, c := range cs {
		out = append(out, Change{Action: Action(c.Action), Resource: c.Resource, Name: c.Name, Value: c.Value, Current: c.Current, Note: c.Note})
	}
	return out
}

// ReadSESCredentials reads the one set of SES credentials the target keeps
// in dir (when the region is not known); several regions are an
// *InputError asking for --region.
func ReadSESCredentials(t mta.Target, dir string) (mta.Credentials, error) {
	c, err := t.ReadSESCredentials(dir)
	var re *mta.RegionsError
	if errors.As(err, &re) {
		return c, &InputError{Field: "region", Flag: "--region", Msg: re.Error()}
	}
	return c, err
}

// readSetupCredentials is what the smtp-user step finds in dir for a setup
// in region: sesame's credentials for the region's SES host, or else the
// one SES entry there for another region, which the step reports as bound
// to that region (and whose key it never takes for an orphan) before it
// adds this region's entry beside it.
func readSetupCredentials(t mta.Target, dir, region string, port int) (mta.Credentials, error) {
	e, err := t.ReadCredentials(dir, ses.SMTPHost(region), port)
	if errors.Is(err, fs.ErrNotExist) {
		if other, oerr := ReadSESCredentials(t, dir); oerr == nil {
			return other, nil
		}
	}
	return e, err
}

// smtpPortOf is the relay's SMTP port: --smtp-port, or 587.
func smtpPortOf(o Options) int { return ses.PortOrDefault(o.SMTPPort) }
