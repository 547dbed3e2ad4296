package postfix

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Install is a Postfix installation that --apply-postfix configures:
// its configuration directory and its commands.
type Install struct {
	// Dir is the configuration directory ("" means /etc/postfix).
	Dir string
	// Sbin is where postconf, postmap and postfix are; "" means PATH, then
	// /usr/sbin (often not on a user's PATH).
	Sbin string
	// Now stamps the backups (default time.Now).
	Now func() time.Time
	// SASLLibDirs are where the Cyrus SASL plugins are looked for (nil:
	// the usual library directories).
	SASLLibDirs []string
}

func (p Install) dir() string { return cmp.Or(p.Dir, DefaultDir) }

func (p Install) tool(name string) (string, error) {
	if p.Sbin != "" {
		path := filepath.Join(p.Sbin, name)
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("postfix: %s not found in %s: is Postfix installed?", name, p.Sbin)
		}
		return path, nil
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name), nil
		}
	}
	return "", fmt.Errorf("postfix: %s not found: Postfix is not installed here (install the postfix package), or run %s on the mail server instead", name, ApplyScriptFile)
}

// run runs a Postfix command with -c DIR and returns its output; a failure
// carries the output, which is where Postfix says what is wrong.
func (p Install) run(ctx context.Context, name string, args ...string) (string, error) {
	path, err := p.tool(name)
	if err != nil {
		return "", err
	}
	args = append([]string{"-c", p.dir()}, args...)
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// Preflight says why --apply-postfix cannot run here, or nil: it needs
// root, Postfix's commands and a main.cf.
func (p Install) Preflight() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("--apply-postfix needs root to change %s: run sesame with sudo, or run %s as root yourself", p.dir(), ApplyScriptFile)
	}
	for _, t := range []string{"postconf", "postmap", "postfix"} {
		if _, err := p.tool(t); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(p.dir(), "main.cf")); err != nil {
		return fmt.Errorf("--apply-postfix: %w: is %s Postfix's configuration directory?", err, p.dir())
	}
	if !SASLPluginInstalled(p.SASLLibDirs) {
		d := DetectDistro("")
		return fmt.Errorf("the Cyrus SASL PLAIN/LOGIN plugin is not installed, so Postfix could not log in to SES (\"no mechanism available\"): install the %s package (%s), then run again", d.SASLPackage, d.InstallCmd)
	}
	return nil
}

// Current returns the values Postfix uses now for the settings (explicit
// or default).
func (p Install) Current(ctx context.Context, settings []Setting) (map[string]string, error) {
	names := make([]string, len(settings))
	for i, s := range settings {
		names[i] = s.Name
	}
	out, err := p.run(ctx, "postconf", names...)
	if err != nil {
		return nil, fmt.Errorf("read the Postfix settings: %w", err)
	}
	// "name = value" lines; an empty value prints as "name =".
	cur := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for _, n := range names {
		if _, ok := cur[n]; !ok {
			return nil, fmt.Errorf("read the Postfix settings: postconf did not print %s: is this Postfix too old for it?", n)
		}
	}
	return cur, nil
}

// Action is what applying does to one setting or file.
type Action string

// The actions of a Diff, named as the wizard's plan names them.
const (
	Unchanged Action = "unchanged"
	Update    Action = "update"
	Write     Action = "write"
	Merge     Action = "merge"
	// Remove deletes an obsolete or conflicting parameter (postconf -X).
	Remove Action = "delete"
)

// settingWhy says why each relay setting has the value sesame gives it:
// the reason shown beside current → new.
var settingWhy = map[string]string{
	"relayhost":                    "mail goes to SES's SMTP endpoint for the region the password was derived for; the same string keys sasl_passwd",
	"smtp_sasl_auth_enable":        "without it Postfix never logs in and SES answers 530 (the mail bounces)",
	"smtp_sasl_security_options":   "SES offers only PLAIN and LOGIN, which the default noplaintext forbids; TLS protects the password",
	"smtp_sasl_password_maps":      "where Postfix finds the password for the relay host",
	"smtp_tls_security_level":      "the password is sent only after TLS to a server whose certificate names the relay host",
	"smtp_tls_secure_cert_match":   "SES's certificate names the relay host itself (nexthop)",
	"smtp_tls_wrappermode":         "must match the port: yes for 465/2465, no for 587/2587",
	"smtp_tls_note_starttls_offer": "logs servers that offer STARTTLS",
	"smtp_tls_CAfile":              "this system's CA bundle, which verifies SES's certificate",
	"smtp_generic_maps":            "rewrites local senders (root@host) to an address SES accepts",
}

// obsoleteWhy says why a parameter Diff removes has to go.
var obsoleteWhy = map[string]string{
	"smtp_use_tls":              "obsolete: smtp_tls_security_level replaces it, and the two can disagree",
	"smtp_enforce_tls":          "obsolete: smtp_tls_security_level replaces it, and the two can disagree",
	"smtp_tls_enforce_peername": "obsolete: smtp_tls_security_level replaces it, and the two can disagree",
	"smtp_fallback_relay":       "sends mail that SES defers to another relay, around SES",
}

// Change is one setting or file that applying would change (or leave).
type Change struct {
	Action Action
	// Resource is "postfix-setting" or "file"; Name the setting or path.
	Resource, Name string
	// Value is the new value; Current the one Postfix uses now.
	Value, Current string
	// Note explains a merge or where the change is made.
	Note string
}

// fallbackRelay matches a master.cf override that sends mail around the relay.
var fallbackRelay = regexp.MustCompile(`(?m)^([ \t]+-o[ \t]*(?:smtp_fallback_relay|relayhost)=)`)

// Diff is what applying c would change, setting by setting (current value
// → new value), then the installed sasl_passwd and its map, then master.cf.
// Every change is Unchanged when Postfix is already configured.
func (p Install) Diff(ctx context.Context, c Config) ([]Change, error) {
	settings := c.Settings()
	cur, err := p.Current(ctx, settings)
	if err != nil {
		return nil, err
	}
	mainCF := filepath.Join(p.dir(), "main.cf")
	var changes []Change
	for _, s := range settings {
		ch := Change{Action: Unchanged, Resource: "postfix-setting", Name: s.Name, Value: s.Value, Current: cur[s.Name]}
		if cur[s.Name] != s.Value {
			ch.Action, ch.Note = Update, "in "+mainCF
			if why := settingWhy[s.Name]; why != "" {
				ch.Note = why + " (in " + mainCF + ")"
			}
		}
		changes = append(changes, ch)
	}
	explicitOut, err := p.run(ctx, "postconf", "-n")
	if err != nil {
		return nil, fmt.Errorf("read the Postfix settings: %w", err)
	}
	explicit := postconfValues(explicitOut)
	for _, name := range append(slices.Clone(obsoleteParams), "smtp_fallback_relay") {
		if v, ok := explicit[name]; ok {
			changes = append(changes, Change{Action: Remove, Resource: "postfix-setting", Name: name, Current: v,
				Note: obsoleteWhy[name] + " (postconf -X, in " + mainCF + ")"})
		}
	}
	passwd := filepath.Join(p.dir(), SASLPasswdFile)
	ch := Change{Action: Unchanged, Resource: "file", Name: passwd, Value: "root:root 0600, then postmap"}
	if !p.passwdCurrent(c) {
		ch.Action = Write
		if data, err := os.ReadFile(passwd); err == nil && len(data) > 0 {
			ch.Action = Merge
			ch.Note = fmt.Sprintf("sesame's entry for %s is set; every other line stays, and the old file is backed up beside it", c.RelayHost())
		}
	}
	changes = append(changes, ch)
	if c.RewriteSender != "" {
		gch, err := p.genericChange(ctx, c)
		if err != nil {
			return nil, err
		}
		changes = append(changes, gch)
	}
	if master, err := os.ReadFile(filepath.Join(p.dir(), "master.cf")); err == nil && fallbackRelay.Match(master) {
		changes = append(changes, Change{Action: Update, Resource: "file", Name: filepath.Join(p.dir(), "master.cf"),
			Value: "comment out -o smtp_fallback_relay= and -o relayhost= overrides", Note: "an override would send mail around the SES relay"})
	}
	return changes, nil
}

// passwdCurrent reports whether the installed sasl_passwd holds c's entry
// (whatever other entries it has), is private and root's, and its map is
// no older than it.
func (p Install) passwdCurrent(c Config) bool {
	passwd := filepath.Join(p.dir(), SASLPasswdFile)
	data, err := os.ReadFile(passwd)
	if err != nil || !bytes.Equal(MergeSASLPasswd(data, c.Credentials()), data) {
		return false
	}
	st, err := os.Stat(passwd)
	if err != nil || st.Mode().Perm()&0o077 != 0 || !rootOwned(st) {
		return false
	}
	db, err := os.Stat(passwd + ".db")
	return err == nil && !db.ModTime().Before(st.ModTime()) && db.Mode().Perm()&0o077 == 0 && rootOwned(db)
}

// rootOwned reports whether a file belongs to root (true where the owner
// cannot be read).
func rootOwned(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return !ok || sys.Uid == 0
}

// Applied is what an apply did.
type Applied struct {
	// Changed is false when Postfix was already configured.
	Changed bool
	// Backup is the copy of main.cf taken before changing it.
	Backup string
	// PasswdBackup is the copy of the installed sasl_passwd taken before
	// sesame's entry was merged into it ("" when there was none).
	PasswdBackup string
	// Reloaded is true when a running Postfix was reloaded; false when
	// Postfix is not running (the note says so).
	Reloaded bool
	Note     string
}

// Apply configures Postfix for c: it backs up main.cf (timestamped), sets
// each changed parameter with postconf -e, installs sasl_passwd root:root
// 0600 and its map, comments out master.cf's smtp_fallback_relay
// overrides, runs postfix check (restoring the backups if it fails) and
// reloads a running Postfix. With nothing to change it changes nothing.
func (p Install) Apply(ctx context.Context, c Config) (Applied, error) {
	var res Applied
	if err := p.Preflight(); err != nil {
		return res, err
	}
	changes, err := p.Diff(ctx, c)
	if err != nil {
		return res, err
	}
	var edits, removals []string
	passwdChanged, masterChanged, genericChanged := false, false, false
	for _, ch := range changes {
		switch {
		case ch.Action == Unchanged:
		case ch.Action == Remove:
			removals = append(removals, ch.Name)
		case ch.Resource == "postfix-setting":
			edits = append(edits, ch.Name+" = "+ch.Value)
		case ch.Name == filepath.Join(p.dir(), SASLPasswdFile):
			passwdChanged = true
		case ch.Name == filepath.Join(p.dir(), GenericFile):
			genericChanged = true
		default:
			masterChanged = true
		}
	}
	if len(edits) == 0 && len(removals) == 0 && !passwdChanged && !masterChanged && !genericChanged {
		return res, nil
	}
	// A configuration postfix check already refuses is the operator's to
	// repair: said as such, before sesame touches anything.
	if _, err := p.Check(ctx); err != nil {
		return res, fmt.Errorf("the Postfix configuration in %s is already broken, before sesame changed anything (nothing was changed): %w\n  → fix what postfix check reports, then run again", p.dir(), err)
	}
	res.Changed = true
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	stamp := now().UTC().Format("20060102T150405Z")
	mainCF := filepath.Join(p.dir(), "main.cf")
	masterCF := filepath.Join(p.dir(), "master.cf")
	res.Backup = mainCF + ".sesame-" + stamp
	if err := copyFile(mainCF, res.Backup); err != nil {
		return res, fmt.Errorf("back up %s before changing it: %w", mainCF, err)
	}
	restores := []func() error{func() error { return copyFile(res.Backup, mainCF) }}
	restore := func(cause error) error {
		var errs []error
		for _, r := range restores {
			errs = append(errs, r())
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("%w; restoring the backups failed too: %v (main.cf's backup is %s)", cause, err, res.Backup)
		}
		return fmt.Errorf("%w\n  → nothing changed: main.cf (and sasl_passwd, master.cf) were restored from the backups", cause)
	}
	if len(edits) > 0 {
		if _, err := p.run(ctx, "postconf", append([]string{"-e"}, edits...)...); err != nil {
			return res, restore(fmt.Errorf("set the relay in %s: %w", mainCF, err))
		}
	}
	if len(removals) > 0 {
		if _, err := p.run(ctx, "postconf", append([]string{"-X"}, removals...)...); err != nil {
			return res, restore(fmt.Errorf("remove %s from %s: %w", strings.Join(removals, ", "), mainCF, err))
		}
	}
	if passwdChanged {
		passwd := filepath.Join(p.dir(), SASLPasswdFile)
		old, err := os.ReadFile(passwd)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, restore(fmt.Errorf("read %s before adding sesame's entry: %w", passwd, err))
		}
		if err == nil {
			// The operator's other entries are kept by the merge below; the
			// whole old file stays beside it too.
			res.PasswdBackup = passwd + ".sesame-" + stamp
			if err := installRootFile(res.PasswdBackup, old, 0o600); err != nil {
				return res, restore(fmt.Errorf("back up %s before changing it: %w", passwd, err))
			}
			oldPerm := os.FileMode(0o600)
			if st, err := os.Stat(passwd); err == nil {
				oldPerm = st.Mode().Perm()
			}
			restores = append(restores, func() error {
				if err := installRootFile(passwd, old, oldPerm); err != nil {
					return err
				}
				_, err := p.run(ctx, "postmap", "hash:"+passwd)
				return err
			})
		} else {
			// There was none: restoring means removing the new one and its map.
			restores = append(restores, func() error {
				return errors.Join(removeIfExists(passwd), removeIfExists(passwd+".db"))
			})
		}
		if err := installRootFile(passwd, MergeSASLPasswd(old, c.Credentials()), 0o600); err != nil {
			return res, restore(err)
		}
		if _, err := p.run(ctx, "postmap", "hash:"+passwd); err != nil {
			return res, restore(fmt.Errorf("build the password map: %w", err))
		}
		if err := os.Chmod(passwd+".db", 0o600); err != nil {
			return res, restore(fmt.Errorf("restrict %s.db: %w", passwd, err))
		}
		_ = os.Chown(passwd+".db", 0, 0)
	}
	if genericChanged {
		generic := filepath.Join(p.dir(), GenericFile)
		data, err := p.genericData(ctx, c)
		if err != nil {
			return res, restore(err)
		}
		if old, err := os.ReadFile(generic); err == nil {
			if err := installRootFile(generic+".sesame-"+stamp, old, 0o644); err != nil {
				return res, restore(fmt.Errorf("back up %s: %w", generic, err))
			}
			restores = append(restores, func() error {
				if err := installRootFile(generic, old, 0o644); err != nil {
					return err
				}
				_, err := p.run(ctx, "postmap", "hash:"+generic)
				return err
			})
		} else {
			restores = append(restores, func() error {
				return errors.Join(removeIfExists(generic), removeIfExists(generic+".db"))
			})
		}
		if err := installRootFile(generic, data, 0o644); err != nil {
			return res, restore(err)
		}
		if _, err := p.run(ctx, "postmap", "hash:"+generic); err != nil {
			return res, restore(fmt.Errorf("build the sender rewrite map: %w", err))
		}
	}
	if masterChanged {
		old, err := os.ReadFile(masterCF)
		if err != nil {
			return res, restore(fmt.Errorf("read %s: %w", masterCF, err))
		}
		if err := os.WriteFile(masterCF+".sesame-"+stamp, old, 0o644); err != nil {
			return res, restore(fmt.Errorf("back up %s: %w", masterCF, err))
		}
		restores = append(restores, func() error { return installRootFile(masterCF, old, 0o644) })
		if err := installRootFile(masterCF, fallbackRelay.ReplaceAll(old, []byte("#$1")), 0o644); err != nil {
			return res, restore(err)
		}
	}
	if _, err := p.Check(ctx); err != nil {
		return res, restore(fmt.Errorf("postfix check refused the new configuration: %w", err))
	}
	if _, err := p.run(ctx, "postfix", "status"); err != nil {
		res.Note = "Postfix is not running: start it (systemctl start postfix, or postfix start) to relay through SES"
		return res, nil
	}
	if _, err := p.run(ctx, "postfix", "reload"); err != nil {
		return res, fmt.Errorf("the relay is configured but postfix reload failed: %w\n  → run `postfix reload` (or systemctl reload postfix) yourself", err)
	}
	res.Reloaded = true
	return res, nil
}

// installRootFile writes a file atomically with perm, owned by root. It
// does not narrow the directory (WriteFileAtomic would make /etc/postfix
// 0700, which Postfix's unprivileged daemons cannot read).
func installRootFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".sesame-*")
	if err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.Write(data)
	for _, err := range []error{werr, f.Chmod(perm), f.Chown(0, 0), f.Sync(), f.Close()} {
		if err != nil {
			return fmt.Errorf("install %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}

// copyFile copies src to dst with src's permissions.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	return installRootFile(dst, data, st.Mode().Perm())
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Flush asks a running Postfix to retry its deferred mail now
// (postqueue -f).
func (p Install) Flush(ctx context.Context) error {
	_, err := p.run(ctx, "postqueue", "-f")
	return err
}

// genericData is the smtp_generic_maps table for c: the machine's own
// names (myhostname, localhost) rewritten to c.RewriteSender.
func (p Install) genericData(ctx context.Context, c Config) ([]byte, error) {
	out, err := p.run(ctx, "postconf", "-h", "myhostname")
	if err != nil {
		return nil, fmt.Errorf("read myhostname for the sender rewrite: %w", err)
	}
	return []byte(c.GenericMap([]string{strings.TrimSpace(out), "localhost", "localhost.localdomain"})), nil
}

// genericChange is what applying does to the sender rewrite map: nothing
// when it is current (and its map no older), else a write. A file there
// that sesame did not write is refused, never replaced.
func (p Install) genericChange(ctx context.Context, c Config) (Change, error) {
	path := filepath.Join(p.dir(), GenericFile)
	want, err := p.genericData(ctx, c)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Action: Unchanged, Resource: "file", Name: path, Value: "local senders → " + c.RewriteSender + ", then postmap",
		Note: settingWhy["smtp_generic_maps"]}
	cur, err := os.ReadFile(path)
	if err == nil && !hasSesameMark(cur) {
		return ch, fmt.Errorf("%s exists and sesame did not write it: add the rewrite to it yourself (a line \"@<this host's name> %s\") and postmap it, or move it aside", path, c.RewriteSender)
	}
	st, serr := os.Stat(path)
	db, dberr := os.Stat(path + ".db")
	if err != nil || !bytes.Equal(cur, want) || serr != nil || dberr != nil || db.ModTime().Before(st.ModTime()) {
		ch.Action = Write
	}
	return ch, nil
}
