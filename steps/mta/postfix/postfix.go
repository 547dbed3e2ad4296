package postfix

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// The relay files sesame writes into the output directory, by role. The
// roles are the keys of the wizard's RelayReport.Files and Record.Files.
const (
	RoleMainCF      = "main.cf"
	RoleSASLPasswd  = "sasl_passwd"
	RoleApplyScript = "apply-postfix.sh"

	// MainCFSnippetFile holds the main.cf settings. It is deliberately not
	// named main.cf, so nobody copies it over the whole of Postfix's.
	MainCFSnippetFile = "main.cf.snippet"
	// ApplyScriptFile is the shell script that installs the relay.
	ApplyScriptFile = "apply-postfix.sh"

	// DefaultDir is Postfix's configuration directory.
	DefaultDir = "/etc/postfix"
)

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
	d.Name = cmp.Or(vals["PRETTY_NAME"], vals["ID"], "unknown Linux")
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

// Config is everything the relay files are rendered from. Region, host
// and password always agree because the host is derived from Region and the
// same RelayHostField string keys both relayhost and sasl_passwd.
type Config struct {
	Region string
	// Port is the SES SMTP port; the wizard validates it and fills its
	// default before it renders.
	Port int
	// Username is the access key id; Password its SMTP password for Region.
	Username string
	Password mta.Secret
	// PostfixDir is where sasl_passwd is installed and main.cf lives
	// ("" means /etc/postfix).
	PostfixDir string
	Distro     Distro
	// CAFile overrides Distro.CAFile (tests point it at a private CA).
	CAFile string
	// Host overrides the SES host. Only the real-Postfix test uses it, to
	// send Postfix to the simulator; sesame's own files always name SES.
	Host string
	// RewriteSender, when set, is the address (of the verified domain)
	// that local senders (root@host.localdomain, cron, logwatch) are
	// rewritten to on their way to SES (smtp_generic_maps), since SES
	// refuses a sender that is not a verified identity (554).
	RewriteSender string
}

// GenericFile is the smtp_generic_maps table sesame writes when local
// senders are rewritten.
const GenericFile = "generic"

// ValidateRewriteSender checks an address local senders are rewritten to
// (--rewrite-local-senders): one address, local@domain, with a dotted
// domain and nothing Postfix's table would split.
func ValidateRewriteSender(addr string) error {
	local, domain, ok := strings.Cut(addr, "@")
	switch {
	case addr == "":
		return nil
	case !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(addr, " \t\r\n,<>\"'$") ||
		strings.IndexFunc(addr, unicode.IsControl) >= 0 || strings.Count(addr, "@") != 1:
		return fmt.Errorf("%q is not an address like postmaster@example.com: give one address of the domain SES verified", addr)
	}
	return nil
}

// GenericMap renders the smtp_generic_maps table: every sender at one of
// hosts (the machine's own names) becomes c.RewriteSender.
func (c Config) GenericMap(hosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: local senders rewritten to %s on their way to SES, which refuses\n# a sender that is not a verified identity (smtp_generic_maps; postmap after a change).\n", sesameMark, commentText(c.RewriteSender))
	seen := map[string]bool{}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || seen[h] || strings.ContainsAny(h, " \t\r\n$") {
			continue
		}
		seen[h] = true
		fmt.Fprintf(&b, "@%s %s\n", h, c.RewriteSender)
	}
	return b.String()
}

// SMTPHost is the relay's SMTP host: the region's SES endpoint.
func (c Config) SMTPHost() string { return cmp.Or(c.Host, ses.SMTPHost(c.Region)) }

// RelayHost is the relayhost value, identical to the sasl_passwd key.
func (c Config) RelayHost() string { return RelayHostField(c.SMTPHost(), c.Port) }

// Dir is the Postfix configuration directory the files refer to.
func (c Config) Dir() string { return cmp.Or(c.PostfixDir, DefaultDir) }

// Credentials are the login of this config: sesame's sasl_passwd entry.
func (c Config) Credentials() mta.Credentials {
	return mta.Credentials{Host: c.SMTPHost(), Port: c.Port, Username: c.Username, Password: c.Password}
}

// Validate refuses a config that would produce files Postfix cannot use.
// The region and port are the wizard's to validate (they are SES's
// rules and its flags); here a port must be set.
func (c Config) Validate() error {
	if c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("relay files for %s: no SMTP port (%d)", c.SMTPHost(), c.Port)
	}
	if err := ValidateDir(c.PostfixDir); err != nil {
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

// Setting is one main.cf parameter.
type Setting struct {
	Name, Value string
}

// String renders the setting as a main.cf line without a newline.
func (s Setting) String() string { return s.Name + " = " + s.Value }

// Settings are the main.cf parameters of the relay, in the order they are
// applied. The TLS level is secure: the SMTP password goes only to a server
// whose certificate, signed by a CA in smtp_tls_CAfile, names the relay
// host (SES's certificates name email-smtp.<region>.amazonaws.com, the
// nexthop of relayhost [email-smtp.<region>.amazonaws.com]:port); encrypt
// would send it to any server that offers TLS. smtp_use_tls is never among them: it is obsolete (a warning
// since Postfix 3.9) and smtp_tls_security_level replaces it. The wrapper
// mode is always set, to "no" too, so moving from 465 back to 587 does not
// leave a stale "yes" behind.
func (c Config) Settings() []Setting {
	wrapper := "no"
	if ses.ImplicitTLS(c.Port) {
		wrapper = "yes"
	}
	settings := []Setting{
		{"relayhost", c.RelayHost()},
		{"smtp_sasl_auth_enable", "yes"},
		{"smtp_sasl_security_options", "noanonymous"},
		{"smtp_sasl_password_maps", "hash:" + filepath.Join(c.Dir(), SASLPasswdFile)},
		{"smtp_tls_security_level", "secure"},
		{"smtp_tls_secure_cert_match", "nexthop, dot-nexthop"},
		{"smtp_tls_wrappermode", wrapper},
		{"smtp_tls_note_starttls_offer", "yes"},
		{"smtp_tls_CAfile", cmp.Or(c.CAFile, c.Distro.CAFile, debianDistro.CAFile)},
	}
	if c.RewriteSender != "" {
		settings = append(settings, Setting{"smtp_generic_maps", "hash:" + filepath.Join(c.Dir(), GenericFile)})
	}
	return settings
}

func (c Config) tlsMode() string {
	if ses.ImplicitTLS(c.Port) {
		return "TLS wrapper mode"
	}
	return "STARTTLS"
}

// MainCF renders the main.cf snippet.
func (c Config) MainCF() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: Postfix relays through Amazon SES in %s (port %d, %s).\n", sesameMark, commentText(c.Region), c.Port, c.tlsMode())
	fmt.Fprintf(&b, "# Set these in %s with apply-postfix.sh (postconf -e), or by hand.\n", commentText(filepath.Join(c.Dir(), "main.cf")))
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

// SASLPasswd renders the sasl_passwd file sesame creates where there is
// none (the same bytes WriteSASLPasswd writes into an empty directory).
func (c Config) SASLPasswd() string {
	return saslHeader + Line(c.Credentials())
}

// sesameMark starts the comment that marks a file as sesame's, on its first
// line (on its second after a "#!" line). A file at one of sesame's names
// without it is the operator's, and sesame never replaces it.
const sesameMark = "# Written by sesame"

// hasSesameMark reports whether data carries sesameMark.
func hasSesameMark(data []byte) bool {
	first, rest, _ := strings.Cut(string(data), "\n")
	if strings.HasPrefix(first, "#!") {
		first, _, _ = strings.Cut(rest, "\n")
	}
	return strings.HasPrefix(first, sesameMark)
}

// shellQuote quotes s as one word for a POSIX shell: in single quotes,
// inside which nothing is special, each single quote closed, escaped with a
// backslash and reopened. Every value the apply script holds goes through
// it, whatever it is.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commentText makes s safe inside a "# ..." line of a generated file: a
// control character (a newline above all) would end the comment and start a
// line that runs, so each is shown as "?".
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}

// ValidateDir checks Postfix's configuration directory (--postfix-dir;
// the wizard reports the error as that flag's): the path is written into
// main.cf and into apply-postfix.sh, which runs as root, so it must be an
// absolute path without control characters (a newline would end the line
// it is written on), and without what Postfix itself reads differently in
// a main.cf value: whitespace and commas (list separators) and "$"
// (parameter expansion). "" means /etc/postfix.
func ValidateDir(dir string) error {
	bad := func(format string, args ...any) error {
		return &DirError{Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case dir == "":
		return nil
	case !utf8.ValidString(dir) || strings.IndexFunc(dir, unicode.IsControl) >= 0:
		return bad("%q holds a newline or another control character; it is written into apply-postfix.sh, which runs as root: give Postfix's configuration directory, such as /etc/postfix", dir)
	case !filepath.IsAbs(dir):
		return bad("%q is not an absolute path: give Postfix's configuration directory from /, such as /etc/postfix", dir)
	case strings.ContainsAny(dir, " \t,$"):
		return bad("%q holds a space, a comma or a \"$\", which Postfix reads as a list separator or a parameter in main.cf (smtp_sasl_password_maps names the directory): use a directory without them", dir)
	}
	return nil
}

// DirError is a Postfix configuration directory that cannot be written into
// the relay files. Msg says what is accepted.
type DirError struct{ Msg string }

func (e *DirError) Error() string { return e.Msg }

// ApplyScript renders the script that installs the relay as root: the SASL
// module package, each main.cf setting with postconf -e, sesame's entry
// merged into the installed sasl_passwd (other entries kept, the old file
// backed up beside it) with its map, the master.cf smtp_fallback_relay
// note, then postfix check and reload. It reads sasl_passwd from the
// directory it sits in, so the password is in one file only. Every value
// sesame fills in is assigned once, quoted by shellQuote, and used only
// in double quotes; comments show values through commentText.
func (c Config) ApplyScript() string {
	dir := c.Dir()
	var b strings.Builder
	fmt.Fprintf(&b, `#!/bin/sh
%s: installs the Amazon SES relay (%s, port %d, %s)
# into Postfix at %s. Run it as root: sudo sh %s
# It is safe to run again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "apply-postfix.sh: run as root: sudo sh $0" >&2
	exit 1
fi

# The values sesame filled in.
postfix_dir=%s
passwd=%s
relayhost=%s
# Postfix's commands read the configuration in $postfix_dir.
if [ "$postfix_dir" = %s ]; then set --; else set -- -c "$postfix_dir"; fi

# 1. Postfix needs the Cyrus SASL PLAIN/LOGIN modules to AUTH to SES (%s).
%s

# 2. The relay settings in main.cf.
`, sesameMark, commentText(c.Region), c.Port, c.tlsMode(), commentText(dir), ApplyScriptFile,
		shellQuote(dir), shellQuote(filepath.Join(dir, SASLPasswdFile)), shellQuote(c.RelayHost()), shellQuote(DefaultDir),
		commentText(cmp.Or(c.Distro.Name, "unknown distribution")),
		cmp.Or(c.Distro.InstallCmd, debianDistro.InstallCmd))
	for _, s := range c.Settings() {
		fmt.Fprintf(&b, "postconf \"$@\" -e %s\n", shellQuote(s.String()))
	}
	if c.RewriteSender != "" {
		fmt.Fprintf(&b, `
# 2b. Local senders (root@this-host, cron, logwatch) become %s on their
# way to SES, which refuses a sender that is not a verified identity.
rewrite=%s
generic="$postfix_dir/%s"
if [ -e "$generic" ] && ! head -n 1 "$generic" | grep -q '^%s'; then
	echo "apply-postfix.sh: $generic exists and sesame did not write it: merge the rewrite into it by hand" >&2
	exit 1
fi
{
	echo '%s: local senders rewritten on their way to SES (smtp_generic_maps).'
	for h in "$(postconf "$@" -h myhostname)" localhost localhost.localdomain; do
		printf '@%%s %%s\n' "$h" "$rewrite"
	done
} > "$generic"
postmap "$@" "hash:$generic"
`, commentText(c.RewriteSender), shellQuote(c.RewriteSender), GenericFile, sesameMark, sesameMark)
	}
	b.WriteString(applyScriptTail)
	return b.String()
}

// applyScriptTail is the part of the script that holds no value of its own:
// it uses $postfix_dir, $passwd and $relayhost. The awk program reads
// sesame's entry (keyed by $relayhost) from the sasl_passwd beside the
// script, then copies the installed file, replacing the entry for that key
// (or for the same host and access key id at another port) and its
// continuation lines in place, or adding it at the end: the same merge as
// MergeSASLPasswd.
const applyScriptTail = `
# 3. The password map: sesame's entry (the line for $relayhost in the
# sasl_passwd beside this script) replaces the entry for that key in
# $passwd, or is added; every other line there is kept, and the old file is
# backed up beside it first. Root only, then its hash database.
umask 077
new=$(mktemp "$passwd.sesame-XXXXXX")
trap 'rm -f "$new"' EXIT
old=/dev/null
if [ -e "$passwd" ]; then
	cp -p "$passwd" "$passwd.sesame-$(date -u +%Y%m%dT%H%M%SZ)"
	old=$passwd
fi
SESAME_KEY=$relayhost awk '
BEGIN { key = tolower(ENVIRON["SESAME_KEY"]); host = substr(key, 1, index(key, "]:") + 1) }
FILENAME == ARGV[1] {
	if (!found && /^[^#[:space:]]/ && tolower($1) == key) { found = 1; mine = $0; user = substr($2, 1, index($2, ":")) }
	next
}
/^[[:space:]]+[^[:space:]]/ && dropping { next }
/^[^#[:space:]]/ && (tolower($1) == key || (index(tolower($1), host) == 1 && index($2, user) == 1)) {
	dropping = 1; if (!placed) { print mine; placed = 1 } next
}
/^[^[:space:]]/ { dropping = 0 }
{ print }
END {
	if (!found) { print "apply-postfix.sh: no entry for " ENVIRON["SESAME_KEY"] " in " ARGV[1] ": run sesame again to write it" > "/dev/stderr"; exit 1 }
	if (!placed) print mine
}' "$here/sasl_passwd" "$old" > "$new"
chown root:root "$new"
chmod 0600 "$new"
mv -f "$new" "$passwd"
postmap "$@" "hash:$passwd"
chown root:root "$passwd.db"
chmod 0600 "$passwd.db"

# 4. A "-o smtp_fallback_relay=" or "-o relayhost=" override in master.cf
# sends mail around the relay: comment it out (master.cf.sesame-bak keeps
# the original).
if grep -Eq '^[[:space:]]+-o[[:space:]]*(smtp_fallback_relay|relayhost)=' "$postfix_dir/master.cf"; then
	sed -i.sesame-bak -E 's/^([[:space:]]+-o[[:space:]]*(smtp_fallback_relay|relayhost)=)/#\1/' "$postfix_dir/master.cf"
fi

# 5. Check the configuration, then reload (or start) Postfix.
postfix "$@" check
if postfix "$@" status >/dev/null 2>&1; then
	postfix "$@" reload
else
	postfix "$@" start
fi
echo "Postfix now relays through $relayhost. Test: echo test | sendmail -f you@your-domain recipient@example.com"
`

// File is one file of the relay, as rendered.
type File struct {
	Role string
	Name string
	Data string
	Perm os.FileMode
}

// Files are the relay files, rendered: the main.cf snippet and the script
// 0644 (they hold no secret), sasl_passwd 0600.
func (c Config) Files() []File {
	return []File{
		{RoleMainCF, MainCFSnippetFile, c.MainCF(), 0o644},
		{RoleSASLPasswd, SASLPasswdFile, c.SASLPasswd(), 0o600},
		{RoleApplyScript, ApplyScriptFile, c.ApplyScript(), 0o755},
	}
}

// Conflicts lists what stops sesame from writing its relay files
// into dir: a main.cf.snippet or apply-postfix.sh that sesame did not write
// (no sesameMark), and anything at the three names that is not a regular
// file (a link, a directory). sasl_passwd is never a conflict for its
// content: sesame merges its entry into it.
func Conflicts(dir string) []mta.Conflict {
	var out []mta.Conflict
	// Postfix's own directory is never the output: sesame's sasl_passwd
	// there would be Postfix's (a merge of it into itself), and its files
	// would sit among Postfix's. apply-postfix.sh and --apply-postfix
	// install into it from elsewhere.
	if st, err := os.Stat(filepath.Join(dir, "main.cf")); err == nil && st.Mode().IsRegular() {
		out = append(out, mta.Conflict{Path: dir, Note: "holds main.cf: it is a Postfix configuration directory, and sesame writes its relay files (and the SMTP password) beside Postfix's, never into them: choose another --out, then install them with apply-postfix.sh or --apply-postfix"})
		return out
	}
	for _, name := range []string{MainCFSnippetFile, SASLPasswdFile, ApplyScriptFile} {
		path := filepath.Join(dir, name)
		st, err := os.Lstat(path)
		if err != nil {
			// Missing is the usual case; any other failure (dir is a
			// file) is the output-location check's to report.
			continue
		}
		conflict := func(note string) {
			out = append(out, mta.Conflict{Path: path, Note: note})
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			conflict("is a symbolic link: sesame writes its files only as regular files and never through a link; move it aside, or choose another --out")
			continue
		case !st.Mode().IsRegular():
			conflict("is not a regular file (" + st.Mode().Type().String() + "): move it aside, or choose another --out")
			continue
		case name == SASLPasswdFile:
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			conflict(fmt.Sprintf("cannot be read to see whether sesame wrote it (%v): move it aside, or choose another --out", err))
			continue
		}
		if !hasSesameMark(data) {
			conflict(fmt.Sprintf("exists and sesame did not write it (it lacks the %q line), so sesame will not replace it: move it aside, or choose another --out", sesameMark+" ..."))
		}
	}
	return out
}

// WriteFiles writes the relay files into dir (created 0700) atomically
// and returns their paths by role. The files are validated first, so a
// config that disagrees with itself never reaches the disk, and nothing is
// written when a file there is not sesame's (Conflicts). Its entry
// is merged into sasl_passwd (MergeSASLPasswd); a file that is already
// current is left alone.
func WriteFiles(dir string, c Config) (map[string]string, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if cs := Conflicts(dir); len(cs) > 0 {
		var b strings.Builder
		b.WriteString("the relay files conflict with files there; nothing was written:")
		for _, c := range cs {
			fmt.Fprintf(&b, "\n  %s: %s", c.Path, c.Note)
		}
		return nil, errors.New(b.String())
	}
	stale := Stale(dir, c)
	paths := map[string]string{}
	for _, f := range c.Files() {
		p := filepath.Join(dir, f.Name)
		paths[f.Role] = p
		if !slices.ContainsFunc(stale, func(s string) bool { return strings.HasPrefix(s, f.Name) }) {
			continue
		}
		var err error
		if f.Role == RoleSASLPasswd {
			_, err = WriteSASLPasswd(dir, c.Credentials())
		} else {
			err = state.WriteFileAtomic(p, []byte(f.Data), f.Perm)
		}
		if err != nil {
			return nil, fmt.Errorf("write the relay file %s: %w", f.Role, err)
		}
	}
	return paths, nil
}

// Stale reports which relay files in dir differ from what c
// renders (missing, different content, or sasl_passwd readable by others).
// sasl_passwd is current when it holds c's entry, whatever else it holds.
// An empty result means the files are current.
func Stale(dir string, c Config) []string {
	var stale []string
	for _, f := range c.Files() {
		p := filepath.Join(dir, f.Name)
		data, err := os.ReadFile(p)
		current := err == nil && string(data) == f.Data
		if f.Role == RoleSASLPasswd {
			current = err == nil && bytes.Equal(MergeSASLPasswd(data, c.Credentials()), data)
		}
		if !current {
			stale = append(stale, f.Name)
			continue
		}
		if st, err := os.Stat(p); err == nil && f.Perm == 0o600 && st.Mode().Perm()&0o077 != 0 {
			stale = append(stale, f.Name+" (permissions)")
		}
	}
	return stale
}
