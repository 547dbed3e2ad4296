package postfix

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
	"github.com/sesame-tool/sesame/steps/state"
)

// SASLPasswdFile is the name of the Postfix password map sesame writes in
// the output directory. It is the only file holding the SMTP password.
const SASLPasswdFile = "sasl_passwd"

// RelayHostField is the Postfix relayhost (and sasl_passwd key) for a host
// and port: "[email-smtp.us-east-1.amazonaws.com]:587". Postfix looks the
// password up by exactly this string, so both files use this function.
func RelayHostField(host string, port int) string {
	return fmt.Sprintf("[%s]:%d", host, port)
}

// key is an entry's lookup key, the relayhost: "[host]:port".
func key(e mta.Credentials) string { return RelayHostField(e.Host, e.Port) }

// Line renders credentials as sesame's sasl_passwd line, with a newline.
func Line(e mta.Credentials) string {
	return fmt.Sprintf("%s %s:%s\n", key(e), e.Username, e.Password.Reveal())
}

// saslHeader is the first line of a sasl_passwd sesame creates. A file
// that existed before keeps its own first line: sesame adds or replaces
// only its entry there.
const saslHeader = sesameMark + ". SES SMTP credentials for Postfix: keep this file 0600.\n"

// saslLine is one physical line of a sasl_passwd, with its line ending.
type saslLine struct {
	text string
	// key is the lookup key of an entry's first line ("" for comments,
	// blank lines and continuation lines).
	key string
	// cont is a continuation line: Postfix joins a line that starts with
	// whitespace to the entry above it.
	cont bool
}

// splitSASLPasswd splits a Postfix table into its lines, each keeping its
// bytes (and its newline, when it has one), so that a merge can write every
// line it does not own back unchanged.
func splitSASLPasswd(data []byte) []saslLine {
	var lines []saslLine
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var text string
		if i < 0 {
			text, data = string(data), nil
		} else {
			text, data = string(data[:i+1]), data[i+1:]
		}
		l := saslLine{text: text}
		body := strings.TrimRight(text, "\r\n")
		switch {
		case strings.TrimSpace(body) == "" || strings.HasPrefix(body, "#"):
		case body[0] == ' ' || body[0] == '\t':
			l.cont = true
		default:
			l.key = strings.Fields(body)[0]
		}
		lines = append(lines, l)
	}
	return lines
}

// MergeSASLPasswd returns existing with e as sesame's entry: the entry
// whose key is e's relayhost ("[host]:port", compared without case, as
// postmap folds keys) is replaced in place, or e is appended. An entry for
// the same host at another port with the same access key id is sesame's
// too (the port changed) and goes. Every other line (other relays'
// entries, comments, blank lines) is kept byte for byte. An empty existing file becomes sesame's header and entry. A merge
// that changes nothing returns existing unchanged, so a rerun can tell
// there is nothing to write.
func MergeSASLPasswd(existing []byte, e mta.Credentials) []byte {
	if len(existing) == 0 {
		return []byte(saslHeader + Line(e))
	}
	var b strings.Builder
	placed, dropping := false, false
	for _, l := range splitSASLPasswd(existing) {
		switch {
		case l.cont && dropping:
			// A continuation of sesame's old entry goes with it.
			continue
		case l.key != "" && ownsSASLLine(l, e):
			dropping = true
			if !placed {
				b.WriteString(Line(e))
				placed = true
			}
			continue
		case !l.cont:
			dropping = false
		}
		b.WriteString(l.text)
	}
	if !placed {
		if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteString("\n")
		}
		b.WriteString(Line(e))
	}
	return []byte(b.String())
}

// ownsSASLLine reports whether the entry line l is sesame's entry e (its
// key) or e's earlier self at another port (same host and access key id).
func ownsSASLLine(l saslLine, e mta.Credentials) bool {
	if strings.EqualFold(l.key, key(e)) {
		return true
	}
	old, ok := parseSASLEntry(l.text)
	return ok && strings.EqualFold(old.Host, e.Host) && old.Username == e.Username
}

// WriteSASLPasswd writes e into dir/sasl_passwd, 0600, atomically (a
// missing dir is created 0700, an existing one keeps its mode), merged
// into the file that is there (MergeSASLPasswd):
// the other entries and comments stay. It returns the file's path.
func WriteSASLPasswd(dir string, e mta.Credentials) (string, error) {
	path := filepath.Join(dir, SASLPasswdFile)
	existing, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s before adding sesame's entry: %w", path, err)
	}
	merged := MergeSASLPasswd(existing, e)
	if err == nil && bytes.Equal(merged, existing) {
		if st, serr := os.Stat(path); serr == nil && st.Mode().Perm()&0o077 == 0 {
			return path, nil
		}
	}
	if err := state.WriteFileAtomic(path, merged, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// parseSASLEntry parses an entry line "[host]:port user:password".
func parseSASLEntry(line string) (mta.Credentials, bool) {
	fields := strings.Fields(line)
	if len(fields) != 2 || !strings.HasPrefix(fields[0], "[") {
		return mta.Credentials{}, false
	}
	host, portStr, ok := strings.Cut(strings.TrimPrefix(fields[0], "["), "]:")
	port, err := strconv.Atoi(portStr)
	if !ok || err != nil || host == "" {
		return mta.Credentials{}, false
	}
	user, pass, ok := strings.Cut(fields[1], ":")
	if !ok || user == "" || pass == "" {
		return mta.Credentials{}, false
	}
	return mta.Credentials{Host: host, Port: port, Username: user, Password: mta.Secret(pass)}, true
}

// readSASLEntries reads the "[host]:port user:password" entries of
// dir/sasl_passwd, in file order; other lines are skipped.
func readSASLEntries(dir string) (string, []mta.Credentials, error) {
	path := filepath.Join(dir, SASLPasswdFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return path, nil, fmt.Errorf("read %s: %w", path, err)
	}
	var entries []mta.Credentials
	for _, l := range splitSASLPasswd(data) {
		if l.key == "" {
			continue
		}
		if e, ok := parseSASLEntry(l.text); ok {
			entries = append(entries, e)
		}
	}
	return path, entries, nil
}

// errNoSASLEntry is wrapped by the read functions when the file exists but
// holds no entry for the host: like a missing file, the smtp-user step then
// makes credentials and adds them.
var errNoSASLEntry = fmt.Errorf("no entry for the SES SMTP host: %w", fs.ErrNotExist)

// ReadSASLPasswdFor reads sesame's entry for host and port from
// dir/sasl_passwd: the line keyed "[host]:port", or else the line for the
// same host at another port (the credentials stay valid when the operator
// changes --smtp-port; the relay step rewrites the key). Lines for other
// hosts are other relays' and never taken. It returns an error wrapping
// os.ErrNotExist when there is no such file or line.
func ReadSASLPasswdFor(dir, host string, port int) (mta.Credentials, error) {
	path, entries, err := readSASLEntries(dir)
	if err != nil {
		return mta.Credentials{}, err
	}
	var other *mta.Credentials
	for i, e := range entries {
		if !strings.EqualFold(e.Host, host) {
			continue
		}
		if e.Port == port {
			return e, nil
		}
		if other == nil {
			other = &entries[i]
		}
	}
	if other != nil {
		return *other, nil
	}
	return mta.Credentials{}, fmt.Errorf("read %s: no \"[%s]:%d user:password\" line: %w", path, host, port, errNoSASLEntry)
}

// ReadSASLPasswd reads sesame's entry from dir/sasl_passwd when the region
// is not known (`sesame postfix` without --region): the one entry for an
// SES SMTP host. A file with entries for several SES regions is ambiguous:
// the error is a *mta.RegionsError (the wizard asks for --region). It returns an error wrapping os.ErrNotExist
// when there is no file or no SES entry.
func ReadSASLPasswd(dir string) (mta.Credentials, error) {
	path, entries, err := readSASLEntries(dir)
	if err != nil {
		return mta.Credentials{}, err
	}
	var found []mta.Credentials
	for _, e := range entries {
		if ses.RegionOfSMTPHost(strings.ToLower(e.Host)) == "" {
			continue
		}
		if len(found) > 0 && strings.EqualFold(found[0].Host, e.Host) {
			continue // the same region at another port
		}
		found = append(found, e)
	}
	switch len(found) {
	case 0:
		return mta.Credentials{}, fmt.Errorf("read %s: no \"[email-smtp.<region>.amazonaws.com]:port user:password\" line: %w", path, errNoSASLEntry)
	case 1:
		return found[0], nil
	}
	var regions []string
	for _, e := range found {
		regions = append(regions, ses.RegionOfSMTPHost(strings.ToLower(e.Host)))
	}
	return mta.Credentials{}, &mta.RegionsError{Path: path, Regions: regions}
}
