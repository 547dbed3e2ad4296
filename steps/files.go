package steps

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteFileAtomic writes data to path so that a reader sees either the old
// file or the whole new one, never a part: it writes a temporary file in the
// same directory, syncs it, sets perm explicitly (so the umask cannot widen
// or narrow it) and renames it over path. The directory is created 0700 if
// it does not exist.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := EnsurePrivateDir(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename durable: a crash right after must not lose the file
	// that holds the only copy of a new SMTP password.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// EnsurePrivateDir creates dir (and parents) if needed and makes dir itself
// 0700. An existing directory with wider permissions is narrowed, because
// it will hold a password.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict directory %s to 0700: %w", dir, err)
		}
	}
	return nil
}

// SASLPasswdFile is the name of the Postfix password map sesame writes in
// the output directory. It is the only file holding the SMTP password.
const SASLPasswdFile = "sasl_passwd"

// RelayHostField is the Postfix relayhost (and sasl_passwd key) for a host
// and port: "[email-smtp.us-east-1.amazonaws.com]:587". Postfix looks the
// password up by exactly this string, so both files use this function.
func RelayHostField(host string, port int) string {
	return fmt.Sprintf("[%s]:%d", host, port)
}

// SASLEntry is the one line of sesame's sasl_passwd.
type SASLEntry struct {
	Host     string
	Port     int
	Username string // the access key id
	Password Secret
}

// Line renders the entry as a sasl_passwd line, with a newline.
func (e SASLEntry) Line() string {
	return fmt.Sprintf("%s %s:%s\n", RelayHostField(e.Host, e.Port), e.Username, e.Password.Reveal())
}

// WriteSASLPasswd writes the entry to dir/sasl_passwd, 0600, atomically, in
// a 0700 directory. It returns the file's path.
func WriteSASLPasswd(dir string, e SASLEntry) (string, error) {
	path := filepath.Join(dir, SASLPasswdFile)
	header := "# Written by sesame. SES SMTP credentials for Postfix: keep this file 0600.\n"
	if err := WriteFileAtomic(path, []byte(header+e.Line()), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// ReadSASLPasswd reads the entry sesame wrote to dir/sasl_passwd. It
// returns an error wrapping os.ErrNotExist when there is none.
func ReadSASLPasswd(dir string) (SASLEntry, error) {
	path := filepath.Join(dir, SASLPasswdFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return SASLEntry{}, fmt.Errorf("read %s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, cred, ok := strings.Cut(line, " ")
		if !ok {
			break
		}
		user, pass, ok := strings.Cut(strings.TrimSpace(cred), ":")
		if !ok || !strings.HasPrefix(key, "[") {
			break
		}
		host, portStr, ok := strings.Cut(strings.TrimPrefix(key, "["), "]:")
		port, err := strconv.Atoi(portStr)
		if !ok || err != nil {
			break
		}
		return SASLEntry{Host: host, Port: port, Username: user, Password: Secret(pass)}, nil
	}
	return SASLEntry{}, fmt.Errorf("read %s: no \"[host]:port user:password\" line", path)
}
