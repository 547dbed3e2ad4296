package steps

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/ses"
)

// The relay files sesame writes into the output directory, by role. The
// roles are the keys of RelayReport.Files and Record.Files.
const (
	RoleMainCF      = "main.cf"
	RoleSASLPasswd  = "sasl_passwd"
	RoleApplyScript = "apply-postfix.sh"

	// MainCFSnippetFile holds the main.cf settings. It is deliberately not
	// named main.cf, so nobody copies it over the whole of Postfix's.
	MainCFSnippetFile = "main.cf.snippet"
	// ApplyScriptFile is the shell script that installs the relay.
	ApplyScriptFile = "apply-postfix.sh"

	// DefaultPostfixDir is Postfix's configuration directory.
	DefaultPostfixDir = "/etc/postfix"
	// DefaultSMTPPort is the SES SMTP port sesame relays through (STARTTLS).
	DefaultSMTPPort = 587
	// MailboxSimulatorSuccess is SES's mailbox simulator address that
	// accepts every message, even in the sandbox: the default --test-to.
	MailboxSimulatorSuccess = "success@simulator.amazonses.com"
)

// smtpPorts are the ports SES SMTP listens on for relays: STARTTLS on 587
// and 2587, TLS from the first byte ("wrapper mode") on 465 and 2465. Port
// 25 works too but EC2 throttles it, so sesame does not offer it.
var smtpPorts = []int{587, 2587, 465, 2465}

// ValidateSMTPPort accepts the SES SMTP ports a relay can use.
func ValidateSMTPPort(port int) error {
	if slices.Contains(smtpPorts, port) {
		return nil
	}
	msg := fmt.Sprintf("%d is not an SES SMTP port for a relay; use 587 (STARTTLS, the default), 2587 (STARTTLS), 465 or 2465 (TLS wrapper mode)", port)
	if port == 25 {
		msg = "port 25 is throttled on EC2 and often blocked elsewhere; use 587 (STARTTLS, the default), 2587, 465 or 2465"
	}
	return &InputError{Field: "smtp-port", Flag: "--smtp-port", Msg: msg}
}

// WrapperMode reports whether a port speaks TLS from the first byte (465,
// 2465) rather than upgrading with STARTTLS.
func WrapperMode(port int) bool { return port == 465 || port == 2465 }

// Distro is what the relay files need to know about the Linux distribution
// Postfix runs on.
type Distro struct {
	// Name is the os-release PRETTY_NAME or ID, for comments.
	Name string
	// Family is "debian", "rhel", "suse" or "" when unknown.
	Family string
	// CAFile is the system CA bundle Postfix verifies SES's certificate with.
	CAFile string
	// SASLPackage is the package holding the Cyrus SASL PLAIN/LOGIN
	// modules; without it Postfix cannot AUTH and SES answers 530.
	SASLPackage string
	// InstallCmd installs SASLPackage.
	InstallCmd string
}

var (
	debianDistro = Distro{Family: "debian", CAFile: "/etc/ssl/certs/ca-certificates.crt", SASLPackage: "libsasl2-modules",
		InstallCmd: "DEBIAN_FRONTEND=noninteractive apt-get install -y libsasl2-modules"}
	rhelDistro = Distro{Family: "rhel", CAFile: "/etc/ssl/certs/ca-bundle.crt", SASLPackage: "cyrus-sasl-plain",
		InstallCmd: "if command -v dnf >/dev/null 2>&1; then dnf install -y cyrus-sasl-plain; else yum install -y cyrus-sasl-plain; fi"}
	suseDistro = Distro{Family: "suse", CAFile: "/etc/ssl/ca-bundle.pem", SASLPackage: "cyrus-sasl-plain",
		InstallCmd: "zypper --non-interactive install cyrus-sasl-plain"}
)

// ParseOSRelease picks the Distro from the text of /etc/os-release by its
// ID and ID_LIKE. An unknown distribution gets Debian's paths and an empty
// Family, which the files mention so the operator checks them.
func ParseOSRelease(text string) Distro {
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok {
			vals[k] = strings.Trim(v, `"'`)
		}
	}
	ids := append([]string{vals["ID"]}, strings.Fields(vals["ID_LIKE"])...)
	d := Distro{CAFile: debianDistro.CAFile, SASLPackage: debianDistro.SASLPackage, InstallCmd: debianDistro.InstallCmd}
	for _, id := range ids {
		switch strings.ToLower(id) {
		case "debian", "ubuntu":
			d = debianDistro
		case "rhel", "fedora", "centos", "amzn", "rocky", "almalinux", "ol":
			d = rhelDistro
		case "suse", "opensuse", "sles":
			d = suseDistro
		default:
			continue
		}
		break
	}
	d.Name = firstNonEmpty(vals["PRETTY_NAME"], vals["ID"], "unknown Linux")
	return d
}

// DetectDistro reads an os-release file (path "" means /etc/os-release).
// A missing file yields the unknown distribution.
func DetectDistro(path string) Distro {
	if path == "" {
		path = "/etc/os-release"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ParseOSRelease("")
	}
	return ParseOSRelease(string(data))
}

// RelayConfig is everything the relay files are rendered from. Region, host
// and password always agree because the host is derived from Region and the
// same RelayHostField string keys both relayhost and sasl_passwd.
type RelayConfig struct {
	Region string
	// Port is one of ValidateSMTPPort's ports (0 means 587).
	Port int
	// Username is the access key id; Password its SMTP password for Region.
	Username string
	Password Secret
	// PostfixDir is where sasl_passwd is installed and main.cf lives
	// ("" means /etc/postfix).
	PostfixDir string
	Distro     Distro
	// CAFile overrides Distro.CAFile (tests point it at a private CA).
	CAFile string
	// Host overrides the SES host. Only the real-Postfix test uses it, to
	// send Postfix to the simulator; sesame's own files always name SES.
	Host string
}

// SMTPHost is the relay's SMTP host: the region's SES endpoint.
func (c RelayConfig) SMTPHost() string { return firstNonEmpty(c.Host, ses.SMTPHost(c.Region)) }

// SMTPPort is the relay's port, 587 when unset.
func (c RelayConfig) SMTPPort() int {
	if c.Port == 0 {
		return DefaultSMTPPort
	}
	return c.Port
}

// RelayHost is the relayhost value, identical to the sasl_passwd key.
func (c RelayConfig) RelayHost() string { return RelayHostField(c.SMTPHost(), c.SMTPPort()) }

// Dir is the Postfix configuration directory the files refer to.
func (c RelayConfig) Dir() string { return firstNonEmpty(c.PostfixDir, DefaultPostfixDir) }

// SASLEntry is the sasl_passwd line of this config.
func (c RelayConfig) SASLEntry() SASLEntry {
	return SASLEntry{Host: c.SMTPHost(), Port: c.SMTPPort(), Username: c.Username, Password: c.Password}
}

// Validate refuses a config that would produce files Postfix cannot use.
func (c RelayConfig) Validate() error {
	if c.Host == "" {
		if err := ValidateRegion(c.Region); err != nil {
			return err
		}
	}
	if err := ValidateSMTPPort(c.SMTPPort()); err != nil && c.Host == "" {
		return err
	}
	if c.Username == "" || c.Password == "" {
		return fmt.Errorf("relay files for %s: no SMTP user name or password: the smtp-user step makes them; run sesame again", c.SMTPHost())
	}
	if strings.ContainsAny(c.Username, " \t\r\n:") || strings.ContainsAny(c.Password.Reveal(), " \t\r\n") {
		return fmt.Errorf("relay files: the SMTP user name or password contains a space, newline or (in the name) a colon, which sasl_passwd cannot hold: an access key id and an SES SMTP password never do, so check what was pasted")
	}
	return nil
}

// PostfixSetting is one main.cf parameter.
type PostfixSetting struct {
	Name, Value string
}

// String renders the setting as a main.cf line without a newline.
func (s PostfixSetting) String() string { return s.Name + " = " + s.Value }

// Settings are the main.cf parameters of the relay, in the order they are
// applied. smtp_use_tls is never among them: it is obsolete (a warning
// since Postfix 3.9) and smtp_tls_security_level replaces it. The wrapper
// mode is always set, to "no" too, so moving from 465 back to 587 does not
// leave a stale "yes" behind.
func (c RelayConfig) Settings() []PostfixSetting {
	wrapper := "no"
	if WrapperMode(c.SMTPPort()) {
		wrapper = "yes"
	}
	return []PostfixSetting{
		{"relayhost", c.RelayHost()},
		{"smtp_sasl_auth_enable", "yes"},
		{"smtp_sasl_security_options", "noanonymous"},
		{"smtp_sasl_password_maps", "hash:" + filepath.Join(c.Dir(), SASLPasswdFile)},
		{"smtp_tls_security_level", "encrypt"},
		{"smtp_tls_wrappermode", wrapper},
		{"smtp_tls_note_starttls_offer", "yes"},
		{"smtp_tls_CAfile", firstNonEmpty(c.CAFile, c.Distro.CAFile, debianDistro.CAFile)},
	}
}

func (c RelayConfig) tlsMode() string {
	if WrapperMode(c.SMTPPort()) {
		return "TLS wrapper mode"
	}
	return "STARTTLS"
}

// MainCF renders the main.cf snippet.
func (c RelayConfig) MainCF() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by sesame: Postfix relays through Amazon SES in %s (port %d, %s).\n", c.Region, c.SMTPPort(), c.tlsMode())
	fmt.Fprintf(&b, "# Set these in %s with apply-postfix.sh (postconf -e), or by hand.\n", filepath.Join(c.Dir(), "main.cf"))
	b.WriteString("# relayhost must be exactly the first field of sasl_passwd. smtp_use_tls is obsolete:\n")
	b.WriteString("# smtp_tls_security_level replaces it, so remove it if your main.cf has it.\n")
	if c.Distro.Family == "" {
		fmt.Fprintf(&b, "# Distribution %q is not one sesame knows: check that smtp_tls_CAfile exists.\n", c.Distro.Name)
	}
	for _, s := range c.Settings() {
		b.WriteString(s.String() + "\n")
	}
	return b.String()
}

// SASLPasswd renders the sasl_passwd file (the same bytes WriteSASLPasswd writes).
func (c RelayConfig) SASLPasswd() string {
	return saslHeader + c.SASLEntry().Line()
}

// saslHeader is the first line of sesame's sasl_passwd, as WriteSASLPasswd writes it.
const saslHeader = "# Written by sesame. SES SMTP credentials for Postfix: keep this file 0600.\n"

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:@,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ApplyScript renders the script that installs the relay as root: the SASL
// module package, each main.cf setting with postconf -e, sasl_passwd
// root:root 0600 and its map, the master.cf smtp_fallback_relay note, then
// postfix check and reload. It reads sasl_passwd from the directory it
// sits in, so the password is in one file only.
func (c RelayConfig) ApplyScript() string {
	dir := c.Dir()
	cflag := ""
	if dir != DefaultPostfixDir {
		cflag = " -c " + shellQuote(dir)
	}
	passwd := shellQuote(filepath.Join(dir, SASLPasswdFile))
	var b strings.Builder
	fmt.Fprintf(&b, `#!/bin/sh
# Written by sesame: installs the Amazon SES relay (%s, port %d, %s)
# into Postfix at %s. Run it as root: sudo sh %s
# It is safe to run again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "apply-postfix.sh: run as root: sudo sh $0" >&2
	exit 1
fi

# 1. Postfix needs the Cyrus SASL PLAIN/LOGIN modules to AUTH to SES (%s).
%s

# 2. The relay settings in main.cf.
`, c.Region, c.SMTPPort(), c.tlsMode(), dir, ApplyScriptFile, firstNonEmpty(c.Distro.Name, "unknown distribution"),
		firstNonEmpty(c.Distro.InstallCmd, debianDistro.InstallCmd))
	for _, s := range c.Settings() {
		fmt.Fprintf(&b, "postconf%s -e %s\n", cflag, shellQuote(s.String()))
	}
	fmt.Fprintf(&b, `
# 3. The password map: root only, then its hash database.
install -o root -g root -m 0600 "$here/%s" %s
postmap%s hash:%s
chown root:root %s.db
chmod 0600 %s %s.db

# 4. A "-o smtp_fallback_relay=" override in master.cf sends mail around the
# relay: comment it out (master.cf.sesame-bak keeps the original).
if grep -Eq '^[[:space:]]+-o[[:space:]]+smtp_fallback_relay=' %s/master.cf; then
	sed -i.sesame-bak -E 's/^([[:space:]]+-o[[:space:]]+smtp_fallback_relay=)/#\1/' %s/master.cf
fi

# 5. Check the configuration, then reload (or start) Postfix.
postfix%s check
if postfix%s status >/dev/null 2>&1; then
	postfix%s reload
else
	postfix%s start
fi
echo "Postfix now relays through %s. Test: echo test | sendmail -f you@your-domain recipient@example.com"
`, SASLPasswdFile, passwd, cflag, passwd, passwd, passwd, passwd,
		shellQuote(dir), shellQuote(dir), cflag, cflag, cflag, cflag, c.RelayHost())
	return b.String()
}

// RelayFile is one file of the relay, as rendered.
type RelayFile struct {
	Role string
	Name string
	Data string
	Perm os.FileMode
}

// Files are the relay files, rendered: the main.cf snippet and the script
// 0644 (they hold no secret), sasl_passwd 0600.
func (c RelayConfig) Files() []RelayFile {
	return []RelayFile{
		{RoleMainCF, MainCFSnippetFile, c.MainCF(), 0o644},
		{RoleSASLPasswd, SASLPasswdFile, c.SASLPasswd(), 0o600},
		{RoleApplyScript, ApplyScriptFile, c.ApplyScript(), 0o755},
	}
}

// WriteRelayFiles writes the relay files into dir (created 0700) atomically
// and returns their paths by role. The files are validated first, so a
// config that disagrees with itself never reaches the disk.
func WriteRelayFiles(dir string, c RelayConfig) (map[string]string, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for _, f := range c.Files() {
		p := filepath.Join(dir, f.Name)
		if err := WriteFileAtomic(p, []byte(f.Data), f.Perm); err != nil {
			return nil, fmt.Errorf("write the relay file %s: %w", f.Role, err)
		}
		paths[f.Role] = p
	}
	return paths, nil
}

// RelayFilesCurrent reports which relay files in dir differ from what c
// renders (missing, different content, or sasl_passwd readable by others).
// An empty result means the files are current.
func RelayFilesCurrent(dir string, c RelayConfig) []string {
	var stale []string
	for _, f := range c.Files() {
		p := filepath.Join(dir, f.Name)
		data, err := os.ReadFile(p)
		if err != nil || string(data) != f.Data {
			stale = append(stale, f.Name)
			continue
		}
		if st, err := os.Stat(p); err == nil && f.Perm == 0o600 && st.Mode().Perm()&0o077 != 0 {
			stale = append(stale, f.Name+" (permissions)")
		}
	}
	return stale
}

// RegionOfSMTPHost returns the region of an SES SMTP host
// ("email-smtp.eu-west-1.amazonaws.com" → "eu-west-1"), or "".
func RegionOfSMTPHost(host string) string {
	r, ok := strings.CutPrefix(host, "email-smtp.")
	if !ok {
		return ""
	}
	r, ok = strings.CutSuffix(r, ".amazonaws.com")
	if !ok || strings.Contains(r, ".") {
		return ""
	}
	return r
}
