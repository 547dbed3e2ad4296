package postfix

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps/mta"
	"github.com/sesame-tool/sesame/steps/ses"
)

const debianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
`

func TestMainCFGolden(t *testing.T) {
	c := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW", Distro: ParseOSRelease(debianOSRelease)}
	want := `# Written by sesame: Postfix relays through Amazon SES in us-east-1 (port 587, STARTTLS).
# Set these in /etc/postfix/main.cf with apply-postfix.sh (postconf -e), or by hand.
# relayhost must be exactly the first field of sasl_passwd. smtp_use_tls is obsolete:
# smtp_tls_security_level replaces it, so remove it if your main.cf has it.
relayhost = [email-smtp.us-east-1.amazonaws.com]:587
smtp_sasl_auth_enable = yes
smtp_sasl_security_options = noanonymous
smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
smtp_tls_security_level = secure
smtp_tls_secure_cert_match = nexthop, dot-nexthop
smtp_tls_wrappermode = no
smtp_tls_note_starttls_offer = yes
smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt
`
	if got := c.MainCF(); got != want {
		t.Errorf("MainCF() =\n%s\nwant\n%s", got, want)
	}
	wantPasswd := "# Written by sesame. SES SMTP credentials for Postfix: keep this file 0600.\n" +
		"[email-smtp.us-east-1.amazonaws.com]:587 AKIAIOSFODNN7EXAMPLE:BPW\n"
	if got := c.SASLPasswd(); got != wantPasswd {
		t.Errorf("SASLPasswd() = %q, want %q", got, wantPasswd)
	}
}

// TestRelayFilesAgree renders the files for several regions, ports and
// distributions and checks the invariants: relayhost is byte for byte the
// sasl_passwd key, both name the region's host, the password is the one
// derived for that region, the wrapper mode follows the port, and the
// obsolete smtp_use_tls never appears.
func TestRelayFilesAgree(t *testing.T) {
	tests := []struct {
		region, osRelease string
		port              int
		dir               string
		wantRelay         string
		wantWrapper       string
		wantCA            string
		wantPkg           string
	}{
		{"us-east-1", debianOSRelease, 587, "", "[email-smtp.us-east-1.amazonaws.com]:587", "no", "/etc/ssl/certs/ca-certificates.crt", "libsasl2-modules"},
		{"eu-west-1", "ID=ubuntu\nID_LIKE=debian\n", 2587, "", "[email-smtp.eu-west-1.amazonaws.com]:2587", "no", "/etc/ssl/certs/ca-certificates.crt", "libsasl2-modules"},
		{"ap-southeast-2", "ID=amzn\nID_LIKE=\"centos rhel fedora\"\n", 465, "", "[email-smtp.ap-southeast-2.amazonaws.com]:465", "yes", "/etc/ssl/certs/ca-bundle.crt", "cyrus-sasl-plain"},
		{"us-west-2", "ID=rocky\nID_LIKE=\"rhel centos fedora\"\n", 2465, "/srv/postfix", "[email-smtp.us-west-2.amazonaws.com]:2465", "yes", "/etc/ssl/certs/ca-bundle.crt", "cyrus-sasl-plain"},
		{"eu-central-1", "ID=opensuse-leap\nID_LIKE=\"suse opensuse\"\n", 587, "", "[email-smtp.eu-central-1.amazonaws.com]:587", "no", "/etc/ssl/ca-bundle.pem", "cyrus-sasl-plain"},
	}
	for _, tt := range tests {
		t.Run(tt.region+"-"+tt.wantRelay, func(t *testing.T) {
			c := Config{Region: tt.region, Port: tt.port, Username: testKeyID,
				Password: mta.Secret(ses.SMTPPassword(testSecret, tt.region)), PostfixDir: tt.dir, Distro: ParseOSRelease(tt.osRelease)}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			settings := map[string]string{}
			for _, line := range strings.Split(c.MainCF(), "\n") {
				if k, v, ok := strings.Cut(line, " = "); ok && !strings.HasPrefix(line, "#") {
					settings[k] = v
				}
			}
			if settings["relayhost"] != tt.wantRelay {
				t.Errorf("relayhost = %q, want %q", settings["relayhost"], tt.wantRelay)
			}
			dir := cmp.Or(tt.dir, "/etc/postfix")
			for k, want := range map[string]string{
				"smtp_tls_wrappermode": tt.wantWrapper, "smtp_tls_CAfile": tt.wantCA, "smtp_tls_security_level": "secure", "smtp_tls_secure_cert_match": "nexthop, dot-nexthop",
				"smtp_sasl_auth_enable": "yes", "smtp_sasl_security_options": "noanonymous", "smtp_tls_note_starttls_offer": "yes",
				"smtp_sasl_password_maps": "hash:" + dir + "/sasl_passwd",
			} {
				if settings[k] != want {
					t.Errorf("%s = %q, want %q", k, settings[k], want)
				}
			}
			for name, text := range map[string]string{"main.cf": c.MainCF(), "script": c.ApplyScript()} {
				if strings.Contains(text, "smtp_use_tls") && !strings.Contains(text, "smtp_use_tls is obsolete") {
					t.Errorf("%s sets the obsolete smtp_use_tls", name)
				}
			}
			passwd := c.SASLPasswd()
			lines := strings.Split(strings.TrimSpace(passwd), "\n")
			key, cred, _ := strings.Cut(lines[len(lines)-1], " ")
			if key != settings["relayhost"] {
				t.Errorf("sasl_passwd key %q differs from relayhost %q", key, settings["relayhost"])
			}
			if cred != testKeyID+":"+ses.SMTPPassword(testSecret, tt.region) {
				t.Errorf("sasl_passwd credentials are not the key id and the %s password", tt.region)
			}
			if ses.RegionOfSMTPHost(c.SMTPHost()) != tt.region {
				t.Errorf("host %s is not %s's", c.SMTPHost(), tt.region)
			}
			script := c.ApplyScript()
			for _, s := range c.Settings() {
				if !strings.Contains(script, " -e "+shellQuote(s.String())+"\n") {
					t.Errorf("the script does not set %s", s)
				}
			}
			for _, want := range []string{tt.wantPkg, "postmap", "hash:" + dir + "/sasl_passwd", "chmod 0600", `mv -f "$new" "$passwd"`,
				"smtp_fallback_relay=", "check", "reload"} {
				if !strings.Contains(script, want) {
					t.Errorf("the script lacks %q", want)
				}
			}
			if strings.Contains(script, c.Password.Reveal()) {
				t.Error("the script holds the password; only sasl_passwd may")
			}
			if !strings.Contains(script, "\npostfix_dir="+shellQuote(dir)+"\n") || !strings.Contains(script, `postconf "$@" -e`) {
				t.Errorf("the script does not run postconf for %s", dir)
			}
		})
	}
}

func TestSASLPasswdMatchesWriteSASLPasswd(t *testing.T) {
	dir := t.TempDir()
	c := Config{Region: "eu-west-2", Port: 2587, Username: testKeyID, Password: mta.Secret(ses.SMTPPassword(testSecret, "eu-west-2"))}
	path, err := WriteSASLPasswd(dir, c.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != c.SASLPasswd() {
		t.Errorf("the smtp-user step's sasl_passwd differs from the relay's:\n%q\n%q", data, c.SASLPasswd())
	}
	if stale := Stale(dir, c); !slices.Equal(stale, []string{MainCFSnippetFile, ApplyScriptFile}) {
		t.Errorf("stale files = %q, want the snippet and the script only", stale)
	}
}

func TestWriteRelayFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	c := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: mta.Secret(ses.SMTPPassword(testSecret, "us-east-1"))}
	paths, err := WriteFiles(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	wantPerm := map[string]os.FileMode{RoleMainCF: 0o644, RoleSASLPasswd: 0o600, RoleApplyScript: 0o755}
	for role, perm := range wantPerm {
		st, err := os.Stat(paths[role])
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if st.Mode().Perm() != perm {
			t.Errorf("%s is %o, want %o", role, st.Mode().Perm(), perm)
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("out dir is %o, want 0700", st.Mode().Perm())
	}
	if stale := Stale(dir, c); len(stale) != 0 {
		t.Errorf("freshly written files are stale: %q", stale)
	}
	if err := os.Chmod(paths[RoleSASLPasswd], 0o644); err != nil {
		t.Fatal(err)
	}
	if stale := Stale(dir, c); !slices.Equal(stale, []string{"sasl_passwd (permissions)"}) {
		t.Errorf("a world-readable sasl_passwd is not stale: %q", stale)
	}
	other := c
	other.Port = 465
	if stale := Stale(dir, other); len(stale) != 3 {
		t.Errorf("files for port 587 are current for port 465: %q", stale)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW"}
	tests := []struct {
		name string
		edit func(*Config)
		want string // in the message
	}{
		{"no port", func(c *Config) { c.Port = 0 }, "no SMTP port"},
		{"relative postfix dir", func(c *Config) { c.PostfixDir = "etc/postfix" }, "not an absolute path"},
		{"no password", func(c *Config) { c.Password = "" }, "smtp-user step"},
		{"colon in user", func(c *Config) { c.Username = "a:b" }, "colon"},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		text, family, ca string
	}{
		{debianOSRelease, "debian", "/etc/ssl/certs/ca-certificates.crt"},
		{"ID=\"amzn\"\nVERSION_ID=\"2023\"\n", "rhel", "/etc/ssl/certs/ca-bundle.crt"},
		{"ID=\"rhel\"\n", "rhel", "/etc/ssl/certs/ca-bundle.crt"},
		{"ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", "debian", "/etc/ssl/certs/ca-certificates.crt"},
		{"ID=sles\n", "suse", "/etc/ssl/ca-bundle.pem"},
		{"ID=plan9\n", "", "/etc/ssl/certs/ca-certificates.crt"},
		{"", "", "/etc/ssl/certs/ca-certificates.crt"},
	}
	for _, tt := range tests {
		d := ParseOSRelease(tt.text)
		if d.Family != tt.family || d.CAFile != tt.ca {
			t.Errorf("ParseOSRelease(%q) = %s %s, want %s %s", tt.text, d.Family, d.CAFile, tt.family, tt.ca)
		}
	}
	unknown := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW", Distro: ParseOSRelease("ID=plan9\n")}
	if !strings.Contains(unknown.MainCF(), "check that smtp_tls_CAfile exists") {
		t.Error("an unknown distribution's snippet does not ask to check the CA file")
	}
}

func TestRegionOfSMTPHost(t *testing.T) {
	for host, want := range map[string]string{
		"email-smtp.us-east-1.amazonaws.com": "us-east-1", "email-smtp.eu-west-1.amazonaws.com": "eu-west-1",
		"127.0.0.1": "", "email-smtp.a.b.amazonaws.com": "", "smtp.example.com": "",
	} {
		if got := ses.RegionOfSMTPHost(host); got != want {
			t.Errorf("ses.RegionOfSMTPHost(%q) = %q, want %q", host, got, want)
		}
	}
}

// An access key id and its secret from AWS's documentation (not a real
// key), for rendering and deriving.
const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)
