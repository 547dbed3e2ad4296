package postfix

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame-tool/sesame/steps/mta"
)

// Target is Postfix as the wizard's MTA: the credentials live in
// sasl_passwd.
type Target struct{}

var _ mta.Target = Target{}

// Name implements mta.Target.
func (Target) Name() string { return "Postfix" }

// CredentialsRole implements mta.Target.
func (Target) CredentialsRole() string { return RoleSASLPasswd }

// CredentialsFile implements mta.Target: dir/sasl_passwd.
func (Target) CredentialsFile(dir string) string { return filepath.Join(dir, SASLPasswdFile) }

// WriteCredentials implements mta.Target with WriteSASLPasswd.
func (Target) WriteCredentials(dir string, c mta.Credentials) (string, error) {
	return WriteSASLPasswd(dir, c)
}

// ReadCredentials implements mta.Target with ReadSASLPasswdFor.
func (Target) ReadCredentials(dir, host string, port int) (mta.Credentials, error) {
	return ReadSASLPasswdFor(dir, host, port)
}

// ReadSESCredentials implements mta.Target with ReadSASLPasswd.
func (Target) ReadSESCredentials(dir string) (mta.Credentials, error) {
	return ReadSASLPasswd(dir)
}

// Conflicts implements mta.Target.
func (Target) Conflicts(dir string) []mta.Conflict { return Conflicts(dir) }

// FileHoldsUsername implements mta.Target: a sasl_passwd line names the
// user as its login ("[host]:port user:password").
func (Target) FileHoldsUsername(path, username string) bool {
	if path == "" || username == "" {
		return false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && !strings.HasPrefix(f[0], "#") && strings.HasPrefix(f[1], username+":") {
			return true
		}
	}
	return false
}
