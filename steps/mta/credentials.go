package mta

import (
	"fmt"
	"strings"
)

// Credentials are the SMTP AUTH login of a relay: the SES SMTP host and
// port, the access key id as the user name and its SMTP password.
type Credentials struct {
	Host     string
	Port     int
	Username string // the access key id
	Password Secret
}

// Target is a mail transfer agent sesame configures to relay through SES.
// The wizard reads and writes the SMTP credentials only through it, so a
// second MTA is a package implementing Target and the line that chooses it.
type Target interface {
	// Name is the MTA's name for the operator ("Postfix").
	Name() string
	// CredentialsRole is the role of the credentials file among the files
	// sesame records ("sasl_passwd"); it is saved in state files.
	CredentialsRole() string
	// CredentialsFile is the path of the file in dir that holds the
	// password.
	CredentialsFile(dir string) string
	// WriteCredentials stores c in dir (created 0700), 0600, atomically,
	// keeping whatever else the file holds, and returns the file's path.
	WriteCredentials(dir string, c Credentials) (string, error)
	// ReadCredentials returns the credentials for host and port in dir,
	// or else those for host at another port. The error wraps
	// fs.ErrNotExist when there are none.
	ReadCredentials(dir, host string, port int) (Credentials, error)
	// ReadSESCredentials returns the one set of credentials in dir for an
	// SES SMTP host, when the region is not known. Credentials for several
	// regions are a *RegionsError; none wraps fs.ErrNotExist.
	ReadSESCredentials(dir string) (Credentials, error)
	// FileHoldsUsername reports whether the credentials file at path (this
	// or an earlier output directory's) holds a login as username: then
	// the key may be in use by an installed relay.
	FileHoldsUsername(path, username string) bool
	// Conflicts lists what in dir stops sesame from writing its files
	// there: files at its names that it did not write, links, directories.
	Conflicts(dir string) []Conflict
}

// Conflict is a file that sesame will not replace, and why.
type Conflict struct {
	Path string
	// Note says why and what to do ("... move it aside, or choose another --out").
	Note string
}

// RegionsError is a credentials file that holds SES credentials for
// several regions, when a command needs one: the operator names it.
type RegionsError struct {
	Path    string
	Regions []string
}

func (e *RegionsError) Error() string {
	return fmt.Sprintf("%s holds SES credentials for several regions (%s): name the one to use", e.Path, strings.Join(e.Regions, ", "))
}
