package postfix

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

// Severity is how bad a doctor finding is.
type Severity string

// The severities, from fine to worst. The doctor's exit code is the worst
// one's: 0 ok, 3 warning, 1 broken.
const (
	SeverityOK      Severity = "ok"
	SeverityWarning Severity = "warning"
	SeverityBroken  Severity = "broken"
)

func (s Severity) rank() int {
	switch s {
	case SeverityBroken:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}

// Finding is one thing the doctor checked: what it found, in the
// operator's words, and how to fix it.
type Finding struct {
	// ID names the check ("relayhost", "sasl-entry", "queue-530", ...);
	// stable for --json and tests.
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Summary says what is wrong (or what is right, for ok).
	Summary string `json:"summary"`
	// Fix says what to do; "" for ok.
	Fix string `json:"fix,omitempty"`
	// Params are the main.cf parameters this finding is about: the fix
	// plan shows this finding's summary as the reason for their change.
	Params []string `json:"params,omitempty"`
}

// Diagnosis is what the doctor found in one Postfix configuration.
type Diagnosis struct {
	Dir       string    `json:"postfix_dir"`
	RelayHost string    `json:"relayhost"`
	Findings  []Finding `json:"findings"`
	// Repair is the relay configuration doctor --fix installs: the
	// credentials found in the password map, for the region they were
	// derived for. Nil when no SES credentials were found to repair with.
	Repair *Config `json:"-"`
	// Installed are the credentials the password map holds for the relay
	// host (nil when it holds none): the live checks log in with them.
	Installed *mta.Credentials `json:"-"`
}

// Worst is the most severe finding's severity (ok when there is none).
func (d Diagnosis) Worst() Severity {
	w := SeverityOK
	for _, f := range d.Findings {
		if f.Severity.rank() > w.rank() {
			w = f.Severity
		}
	}
	return w
}

// Reason is the summary of the first finding that is about param and not
// ok ("" when none is): the why of that parameter's change in a fix plan.
func (d Diagnosis) Reason(param string) string {
	for _, f := range d.Findings {
		if f.Severity != SeverityOK && slices.Contains(f.Params, param) {
			return f.Summary
		}
	}
	return ""
}

// DoctorOptions are what the doctor cannot read from Postfix itself.
type DoctorOptions struct {
	// Distro names the SASL package and the CA bundle in fixes.
	Distro Distro
	// SavedRegions maps an access key id to the region sesame's saved
	// setup derived its SMTP password for.
	SavedRegions map[string]string
	// LogFiles are read for their last lines; nil means Postfix's
	// maillog_file, then /var/log/mail.log and /var/log/maillog.
	LogFiles []string
	// SASLLibDirs are where the Cyrus SASL plugins are looked for; nil
	// means the usual library directories.
	SASLLibDirs []string
}

// obsoleteParams are main.cf parameters that conflict with
// smtp_tls_security_level (Postfix ignores or warns about them, and they
// confuse whoever reads main.cf next); --fix removes them.
var obsoleteParams = []string{"smtp_use_tls", "smtp_enforce_tls", "smtp_tls_enforce_peername"}

// doctorParams are the parameters the checks read (effective values).
var doctorParams = []string{"relayhost", "smtp_sasl_auth_enable", "smtp_sasl_password_maps", "smtp_sasl_security_options",
	"smtp_tls_security_level", "smtp_tls_wrappermode", "smtp_tls_CAfile", "smtp_tls_CApath", "smtp_fallback_relay", "maillog_file", "queue_directory"}

// postconfValues parses "name = value" lines.
func postconfValues(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// ParseRelayHost splits a relayhost value: "[host]:port" gives host, port
// and bracketed true; a missing port is 25, Postfix's default.
func ParseRelayHost(v string) (host string, port int, bracketed bool, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", 0, false, errors.New("relayhost is empty")
	}
	rest := v
	if strings.HasPrefix(v, "[") {
		end := strings.Index(v, "]")
		if end < 0 {
			return "", 0, false, fmt.Errorf("relayhost %q has a [ without ]", v)
		}
		host, rest, bracketed = v[1:end], v[end+1:], true
	} else {
		host, rest, _ = strings.Cut(v, ":")
		if rest != "" {
			rest = ":" + rest
		}
	}
	port = 25
	if rest != "" {
		p, ok := strings.CutPrefix(rest, ":")
		n, perr := strconv.Atoi(p)
		if !ok || perr != nil || n <= 0 || n > 65535 {
			return "", 0, false, fmt.Errorf("relayhost %q has no valid port after the host", v)
		}
		port = n
	}
	return strings.ToLower(host), port, bracketed, nil
}

// Doctor checks the relay configured in the Postfix at p.Dir, offline:
// main.cf and master.cf as postconf reads them, the password map as
// postmap looks it up, the files' age and modes, the CA file, the SASL
// plugins, the queue (postqueue -j) and the mail log's last lines. It
// changes nothing. An error means Postfix could not be read at all.
func (p Install) Doctor(ctx context.Context, o DoctorOptions) (Diagnosis, error) {
	d := Diagnosis{Dir: p.dir()}
	if _, err := os.Stat(filepath.Join(p.dir(), "main.cf")); err != nil {
		return d, fmt.Errorf("doctor: %w: is %s Postfix's configuration directory? (give it with --postfix-dir)", err, p.dir())
	}
	// Not postconf -x: expanding every default can wait seconds on DNS
	// for the host's own name. The few values that hold a $ here are
	// expanded below.
	out, err := p.run(ctx, "postconf", doctorParams...)
	if err != nil {
		return d, fmt.Errorf("doctor: read %s/main.cf: %w", p.dir(), err)
	}
	cur := postconfValues(out)
	explicitOut, err := p.run(ctx, "postconf", "-n")
	if err != nil {
		return d, fmt.Errorf("doctor: read %s/main.cf: %w", p.dir(), err)
	}
	explicit := postconfValues(explicitOut)
	// smtp_fallback_relay defaults to $fallback_relay, itself empty.
	cur["smtp_fallback_relay"] = cmp.Or(explicit["smtp_fallback_relay"], explicit["fallback_relay"])
	for k, v := range cur {
		cur[k] = strings.NewReplacer("${config_directory}", p.dir(), "$config_directory", p.dir()).Replace(v)
	}
	masterOut, err := p.run(ctx, "postconf", "-P")
	if err != nil {
		return d, fmt.Errorf("doctor: read %s/master.cf: %w", p.dir(), err)
	}
	add := func(f Finding) { d.Findings = append(d.Findings, f) }
	d.RelayHost = cur["relayhost"]

	host, port, relayOK := p.checkRelayHost(cur, add)
	p.checkSASLSettings(cur, add)
	creds := p.checkPasswordMap(ctx, cur, host, port, relayOK, o, add)
	checkTLS(cur, o, add)
	checkSASLPlugin(o, add)
	for _, name := range obsoleteParams {
		if v, ok := explicit[name]; ok {
			add(Finding{ID: "obsolete-" + name, Severity: SeverityWarning, Params: []string{name},
				Summary: fmt.Sprintf("%s = %s is obsolete: smtp_tls_security_level replaces it, and the two can disagree", name, v),
				Fix:     fmt.Sprintf("remove it: postconf -c %s -X %s (doctor --fix does)", p.dir(), name)})
		}
	}
	if v := cur["smtp_fallback_relay"]; v != "" {
		add(Finding{ID: "fallback-relay", Severity: SeverityWarning, Params: []string{"smtp_fallback_relay"},
			Summary: fmt.Sprintf("smtp_fallback_relay = %s sends mail that SES defers to another relay, around SES and without its credentials", v),
			Fix:     fmt.Sprintf("remove it: postconf -c %s -X smtp_fallback_relay (doctor --fix does)", p.dir())})
	}
	checkMaster(masterOut, p.dir(), add)
	p.checkQueue(ctx, cur["queue_directory"], add)
	checkLog(p.dir(), cur, o, add)
	if creds != nil && strings.EqualFold(RelayHostField(creds.Host, creds.Port), RelayHostField(host, port)) {
		d.Installed = creds
	}
	if creds != nil {
		repair := Config{Region: ses.RegionOfSMTPHost(strings.ToLower(creds.Host)), Port: port, Username: creds.Username,
			Password: creds.Password, PostfixDir: p.Dir, Distro: o.Distro}
		if saved := o.SavedRegions[creds.Username]; saved != "" {
			repair.Region = saved
		}
		if ses.CheckSMTPPort(repair.Port) != nil {
			repair.Port = cmp.Or(creds.Port, ses.DefaultSMTPPort)
			if ses.CheckSMTPPort(repair.Port) != nil {
				repair.Port = ses.DefaultSMTPPort
			}
		}
		d.Repair = &repair
	}
	return d, nil
}

// checkRelayHost checks relayhost and the wrapper mode against its port.
func (p Install) checkRelayHost(cur map[string]string, add func(Finding)) (host string, port int, ok bool) {
	rh := cur["relayhost"]
	host, port, bracketed, err := ParseRelayHost(rh)
	if err != nil {
		add(Finding{ID: "relayhost", Severity: SeverityBroken, Params: []string{"relayhost"},
			Summary: "no relay host: " + err.Error() + ", so Postfix delivers directly to each recipient's MX instead of through SES",
			Fix:     "set relayhost = [email-smtp.<region>.amazonaws.com]:587 (doctor --fix does, for the region of the password in sasl_passwd)"})
		return "", 0, false
	}
	region := ses.RegionOfSMTPHost(host)
	switch {
	case region == "":
		add(Finding{ID: "relayhost", Severity: SeverityWarning, Params: []string{"relayhost"},
			Summary: fmt.Sprintf("relayhost %s is not an SES SMTP endpoint (email-smtp.<region>.amazonaws.com)", rh),
			Fix:     "if this Postfix should relay through SES, set relayhost = [email-smtp.<region>.amazonaws.com]:587"})
	case !bracketed:
		add(Finding{ID: "relayhost", Severity: SeverityBroken, Params: []string{"relayhost"},
			Summary: fmt.Sprintf("relayhost %s has no [brackets]: Postfix looks up MX records for %s, which has none", rh, host),
			Fix:     fmt.Sprintf("set relayhost = [%s]:%d", host, ses.PortOrDefault(map[bool]int{true: port}[port != 25]))})
	case port == 25:
		add(Finding{ID: "relayhost", Severity: SeverityBroken, Params: []string{"relayhost"},
			Summary: fmt.Sprintf("relayhost %s uses port 25, which EC2 throttles and many networks block", rh),
			Fix:     fmt.Sprintf("use port 587 (STARTTLS): relayhost = [%s]:587 (and the same key in sasl_passwd)", host)})
	case ses.CheckSMTPPort(port) != nil:
		add(Finding{ID: "relayhost", Severity: SeverityBroken, Params: []string{"relayhost"},
			Summary: fmt.Sprintf("relayhost %s: %v", rh, ses.CheckSMTPPort(port)),
			Fix:     fmt.Sprintf("set relayhost = [%s]:587", host)})
	default:
		add(Finding{ID: "relayhost", Severity: SeverityOK, Summary: fmt.Sprintf("relayhost %s is SES in %s", rh, region)})
	}
	if region == "" || !bracketed {
		return host, port, region != ""
	}
	wrapper := strings.EqualFold(cur["smtp_tls_wrappermode"], "yes")
	switch {
	case ses.ImplicitTLS(port) && !wrapper:
		add(Finding{ID: "wrappermode", Severity: SeverityBroken, Params: []string{"smtp_tls_wrappermode"},
			Summary: fmt.Sprintf("port %d speaks TLS from the first byte but smtp_tls_wrappermode = no: Postfix waits for a greeting that never comes (\"timed out while receiving the initial server greeting\")", port),
			Fix:     "set smtp_tls_wrappermode = yes, or use port 587 with STARTTLS"})
	case !ses.ImplicitTLS(port) && wrapper:
		add(Finding{ID: "wrappermode", Severity: SeverityBroken, Params: []string{"smtp_tls_wrappermode"},
			Summary: fmt.Sprintf("port %d uses STARTTLS but smtp_tls_wrappermode = yes: Postfix starts TLS on a plain-text greeting (\"SSL_connect error\", \"wrong version number\")", port),
			Fix:     "set smtp_tls_wrappermode = no, or use port 465 for TLS wrapper mode"})
	}
	return host, port, true
}

// checkSASLSettings checks that Postfix logs in, with PLAIN/LOGIN allowed.
func (p Install) checkSASLSettings(cur map[string]string, add func(Finding)) {
	if !strings.EqualFold(cur["smtp_sasl_auth_enable"], "yes") {
		add(Finding{ID: "sasl-auth", Severity: SeverityBroken, Params: []string{"smtp_sasl_auth_enable"},
			Summary: "smtp_sasl_auth_enable is not yes: Postfix never logs in, and SES answers 530 Authentication required (the mail bounces)",
			Fix:     "set smtp_sasl_auth_enable = yes"})
	}
	opts := strings.FieldsFunc(cur["smtp_sasl_security_options"], func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if slices.Contains(opts, "noplaintext") {
		add(Finding{ID: "sasl-options", Severity: SeverityBroken, Params: []string{"smtp_sasl_security_options"},
			Summary: fmt.Sprintf("smtp_sasl_security_options = %s forbids PLAIN and LOGIN, the only mechanisms SES offers (\"no mechanism available\")", cur["smtp_sasl_security_options"]),
			Fix:     "set smtp_sasl_security_options = noanonymous (TLS protects the password)"})
	}
}

// saslMap is one table of smtp_sasl_password_maps.
type saslMap struct {
	spec, typ, path string
}

// dbSuffix is the file postmap builds for an indexed table type.
func (m saslMap) dbSuffix() string {
	switch m.typ {
	case "hash", "btree":
		return ".db"
	case "lmdb":
		return ".lmdb"
	case "cdb":
		return ".cdb"
	}
	return ""
}

func parseMaps(v string) []saslMap {
	var out []saslMap
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		typ, path, ok := strings.Cut(f, ":")
		if !ok {
			continue
		}
		out = append(out, saslMap{spec: f, typ: typ, path: path})
	}
	return out
}

// lookup is postmap -q key map: the value, or found false; err when the
// map cannot be read (its database is missing: "local data error").
func (p Install) lookup(ctx context.Context, m saslMap, key string) (string, bool, error) {
	path, err := p.tool("postmap")
	if err != nil {
		return "", false, err
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-c", p.dir(), "-q", key, m.spec)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if err == nil {
		return strings.TrimSpace(out.String()), true, nil
	}
	if msg := strings.TrimSpace(errOut.String()); msg != "" {
		return "", false, errors.New(msg)
	}
	return "", false, nil
}

// checkPasswordMap checks that the password map has an entry for the
// relay host, built and private, and returns the SES credentials a repair
// would use: the relay host's entry, else the one SES entry in the map's
// source.
func (p Install) checkPasswordMap(ctx context.Context, cur map[string]string, host string, port int, relayOK bool,
	o DoctorOptions, add func(Finding)) *mta.Credentials {
	maps := parseMaps(cur["smtp_sasl_password_maps"])
	if len(maps) == 0 {
		add(Finding{ID: "sasl-maps", Severity: SeverityBroken, Params: []string{"smtp_sasl_password_maps"},
			Summary: "smtp_sasl_password_maps is empty: Postfix has no password to log in with, and SES answers 530 Authentication required (the mail bounces)",
			Fix:     fmt.Sprintf("set smtp_sasl_password_maps = hash:%s and put the relay's credentials there", filepath.Join(p.dir(), SASLPasswdFile))})
		return nil
	}
	key := cur["relayhost"]
	var found *mta.Credentials
	var sourceEntries []mta.Credentials
	for _, m := range maps {
		p.checkMapFiles(m, add)
		if data, err := os.ReadFile(m.path); err == nil {
			for _, l := range splitSASLPasswd(data) {
				if e, ok := parseSASLEntry(l.text); ok && l.key != "" {
					sourceEntries = append(sourceEntries, e)
				}
			}
		}
		if key == "" || found != nil {
			continue
		}
		v, ok, err := p.lookup(ctx, m, key)
		if err != nil && os.Geteuid() != 0 && strings.Contains(strings.ToLower(err.Error()), "permission denied") {
			add(Finding{ID: "sasl-lookup", Severity: SeverityWarning,
				Summary: fmt.Sprintf("%s cannot be read without root (%v), so its entries were not checked", m.spec, err),
				Fix:     "run sesame doctor as root: sudo sesame doctor"})
			continue
		}
		if err != nil {
			add(Finding{ID: "sasl-lookup", Severity: SeverityBroken, Params: []string{"smtp_sasl_password_maps"},
				Summary: fmt.Sprintf("postmap cannot read %s (%v): Postfix logs \"local data error\" and defers the mail", m.spec, err),
				Fix:     fmt.Sprintf("build it: postmap %s (doctor --fix does)", m.spec)})
			continue
		}
		if ok {
			user, pass, _ := strings.Cut(v, ":")
			found = &mta.Credentials{Host: host, Port: port, Username: user, Password: mta.Secret(pass)}
		}
	}
	relayRegion := ses.RegionOfSMTPHost(host)
	var sesEntries []mta.Credentials
	for _, e := range sourceEntries {
		if ses.RegionOfSMTPHost(strings.ToLower(e.Host)) != "" {
			sesEntries = append(sesEntries, e)
		}
	}
	if key != "" && found == nil {
		f := Finding{ID: "sasl-entry", Severity: SeverityBroken, Params: []string{"relayhost", "smtp_sasl_password_maps"},
			Summary: fmt.Sprintf("no entry for %s in %s: Postfix connects without AUTH, SES answers 530 Authentication required and the mail bounces (permanently)", key, cur["smtp_sasl_password_maps"]),
			Fix:     fmt.Sprintf("the key in sasl_passwd must be exactly the relayhost string %s", key)}
		for _, e := range sesEntries {
			if r := ses.RegionOfSMTPHost(strings.ToLower(e.Host)); r != relayRegion && relayRegion != "" {
				f.ID = "region-mismatch"
				f.Summary = fmt.Sprintf("relayhost is SES in %s, but sasl_passwd has the SES entry for %s (%s): Postfix finds no password for the relay host, connects without AUTH, SES answers 530 Authentication required and the mail bounces (permanently)",
					relayRegion, r, RelayHostField(e.Host, e.Port))
				f.Fix = fmt.Sprintf("an SMTP password works only in the region it was derived for: relay through %s (relayhost = %s; doctor --fix does) or make credentials for %s (sesame --region %s)",
					r, RelayHostField(e.Host, cmp.Or(port, e.Port)), relayRegion, relayRegion)
				break
			}
		}
		add(f)
		if len(sesEntries) == 1 || (len(sesEntries) > 0 && !relayOK) {
			e := sesEntries[0]
			return &e
		}
		return nil
	}
	if found == nil {
		// No relayhost: the repair uses the one SES entry there is.
		if len(sesEntries) == 1 {
			return &sesEntries[0]
		}
		return nil
	}
	add(Finding{ID: "sasl-entry", Severity: SeverityOK, Summary: fmt.Sprintf("the password map has an entry for %s (user %s)", key, found.Username)})
	if saved := o.SavedRegions[found.Username]; saved != "" && relayRegion != "" && saved != relayRegion {
		add(Finding{ID: "region-saved", Severity: SeverityBroken, Params: []string{"relayhost"},
			Summary: fmt.Sprintf("the SMTP password of %s was derived for %s (sesame's saved setup), but the relay host is SES in %s: SES answers 535 Authentication Credentials Invalid", found.Username, saved, relayRegion),
			Fix:     fmt.Sprintf("relay through %s (doctor --fix does), or run sesame --region %s for credentials there", saved, relayRegion)})
	}
	return found
}

// checkMapFiles checks a table's source and database: present, the
// database not older than the source, both 0600 and root's.
func (p Install) checkMapFiles(m saslMap, add func(Finding)) {
	suffix := m.dbSuffix()
	src, err := os.Stat(m.path)
	if err != nil {
		if suffix == "" {
			return
		}
		add(Finding{ID: "sasl-source", Severity: SeverityWarning, Params: []string{"smtp_sasl_password_maps"},
			Summary: fmt.Sprintf("%s is missing (%v): the map cannot be rebuilt or changed", m.path, errors.Unwrap(err)),
			Fix:     "recreate it with the relay's credentials: [host]:port ACCESS_KEY_ID:SMTP_PASSWORD"})
	}
	files := []string{m.path}
	if suffix != "" {
		db, err := os.Stat(m.path + suffix)
		switch {
		case err != nil:
			add(Finding{ID: "sasl-db-missing", Severity: SeverityBroken, Params: []string{"smtp_sasl_password_maps"},
				Summary: fmt.Sprintf("%s%s is missing: Postfix cannot read the password map (\"local data error\") and defers the mail", m.path, suffix),
				Fix:     fmt.Sprintf("postmap %s (doctor --fix does)", m.spec)})
		case src != nil && db.ModTime().Before(src.ModTime()):
			add(Finding{ID: "sasl-db-stale", Severity: SeverityBroken, Params: []string{"smtp_sasl_password_maps"},
				Summary: fmt.Sprintf("%s%s is older than %s: Postfix still uses the old entries (an old key or password gets 530 or 535)", m.path, suffix, m.path),
				Fix:     fmt.Sprintf("postmap %s (doctor --fix does)", m.spec)})
		}
		files = append(files, m.path+suffix)
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			continue
		}
		var problems []string
		if st.Mode().Perm()&0o077 != 0 {
			problems = append(problems, fmt.Sprintf("mode %04o lets others read the SMTP password", st.Mode().Perm()))
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
			problems = append(problems, fmt.Sprintf("it is owned by uid %d, not root", sys.Uid))
		}
		if len(problems) > 0 {
			add(Finding{ID: "sasl-perms", Severity: SeverityBroken,
				Summary: fmt.Sprintf("%s: %s", f, strings.Join(problems, "; ")),
				Fix:     fmt.Sprintf("chown root:root %s && chmod 0600 %s (doctor --fix does)", f, f)})
		}
	}
}

// checkTLS checks the TLS level and the CA file.
func checkTLS(cur map[string]string, o DoctorOptions, add func(Finding)) {
	level := cur["smtp_tls_security_level"]
	wantCA := cmp.Or(o.Distro.CAFile, debianDistro.CAFile)
	switch level {
	case "", "none", "may":
		add(Finding{ID: "tls-level", Severity: SeverityBroken, Params: []string{"smtp_tls_security_level"},
			Summary: fmt.Sprintf("smtp_tls_security_level = %q does not require TLS: the SMTP password could cross the network in clear text", level),
			Fix:     "set smtp_tls_security_level = secure with smtp_tls_CAfile = " + wantCA})
	case "encrypt":
		add(Finding{ID: "tls-level", Severity: SeverityWarning, Params: []string{"smtp_tls_security_level"},
			Summary: "smtp_tls_security_level = encrypt sends the SMTP password to any server that offers TLS, without checking its certificate",
			Fix:     "set smtp_tls_security_level = secure (SES's certificate names the relay host) with smtp_tls_CAfile = " + wantCA})
	}
	ca := cur["smtp_tls_CAfile"]
	switch {
	case ca != "":
		if _, err := os.Stat(ca); err != nil {
			add(Finding{ID: "ca-file", Severity: SeverityBroken, Params: []string{"smtp_tls_CAfile"},
				Summary: fmt.Sprintf("smtp_tls_CAfile %s does not exist: Postfix logs \"cannot load Certification Authority data\", then \"TLS is required, but our TLS engine is unavailable\", and defers the mail", ca),
				Fix:     "set smtp_tls_CAfile = " + wantCA + " (this system's CA bundle)"})
		} else {
			add(Finding{ID: "ca-file", Severity: SeverityOK, Summary: "the CA file " + ca + " exists"})
		}
	case cur["smtp_tls_CApath"] == "" && (level == "secure" || level == "verify"):
		add(Finding{ID: "ca-file", Severity: SeverityBroken, Params: []string{"smtp_tls_CAfile"},
			Summary: "no smtp_tls_CAfile or smtp_tls_CApath: Postfix cannot verify SES's certificate",
			Fix:     "set smtp_tls_CAfile = " + wantCA})
	}
}

// saslLibDirs are where distributions install the Cyrus SASL plugins.
var saslLibDirs = []string{"/usr/lib/x86_64-linux-gnu/sasl2", "/usr/lib/aarch64-linux-gnu/sasl2", "/usr/lib/*-linux-gnu*/sasl2",
	"/usr/lib64/sasl2", "/usr/lib/sasl2", "/usr/local/lib/sasl2"}

// SASLPluginInstalled reports whether the Cyrus SASL PLAIN or LOGIN plugin
// is in one of dirs (nil means the usual library directories; a dir may be
// a glob).
func SASLPluginInstalled(dirs []string) bool {
	if dirs == nil {
		dirs = saslLibDirs
	}
	for _, d := range dirs {
		for _, lib := range []string{"libplain.so*", "liblogin.so*"} {
			if m, _ := filepath.Glob(filepath.Join(d, lib)); len(m) > 0 {
				return true
			}
		}
	}
	return false
}

func checkSASLPlugin(o DoctorOptions, add func(Finding)) {
	if SASLPluginInstalled(o.SASLLibDirs) {
		return
	}
	pkg := cmp.Or(o.Distro.SASLPackage, debianDistro.SASLPackage)
	add(Finding{ID: "sasl-plugin", Severity: SeverityBroken,
		Summary: "the Cyrus SASL PLAIN/LOGIN plugin is not installed: Postfix logs \"no mechanism available\" and cannot log in to SES",
		Fix:     fmt.Sprintf("install %s: %s", pkg, cmp.Or(o.Distro.InstallCmd, debianDistro.InstallCmd))})
}

// checkMaster finds master.cf overrides that send mail around the relay.
func checkMaster(out, dir string, add func(Finding)) {
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		parts := strings.Split(strings.TrimSpace(k), "/")
		if len(parts) != 3 {
			continue
		}
		svc, param := parts[0]+"/"+parts[1], parts[2]
		v = strings.TrimSpace(v)
		switch param {
		case "smtp_fallback_relay":
			add(Finding{ID: "master-override", Severity: SeverityWarning,
				Summary: fmt.Sprintf("master.cf's %s service has -o smtp_fallback_relay=%s: mail SES defers goes around SES", svc, v),
				Fix:     fmt.Sprintf("remove the -o line from %s/master.cf (doctor --fix comments it out)", dir)})
		case "relayhost":
			add(Finding{ID: "master-override", Severity: SeverityBroken,
				Summary: fmt.Sprintf("master.cf's %s service has -o relayhost=%s: mail through that service does not go to the relayhost in main.cf", svc, v),
				Fix:     fmt.Sprintf("remove the -o relayhost line from %s/master.cf unless that service is meant to bypass SES (doctor --fix comments it out)", dir)})
		}
	}
}
