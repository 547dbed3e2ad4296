package steps

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// Punycode labels in --mail-from must decode, hold only what IDNA 2008
// allows, and encode back to themselves (the domain's are in
// TestNormalizeDomain).
func TestPunycodeMailFrom(t *testing.T) {
	for _, l := range []string{"xn--zz", "xn--ls8h", "xn--a"} {
		var ie *InputError
		if err := ValidateMailFrom(l, "example.com"); !errors.As(err, &ie) || ie.Flag != "--mail-from" {
			t.Errorf("ValidateMailFrom(%q) = %v, want an InputError for --mail-from", l, err)
		}
	}
	if err := ValidateMailFrom("xn--bcher-kva", "example.com"); err != nil {
		t.Errorf("ValidateMailFrom(xn--bcher-kva) = %v, want accepted", err)
	}
}

func TestLookalike(t *testing.T) {
	tests := []struct {
		in   string
		want string // a word the reason must hold; "" means not a look-alike
	}{
		{"example.com", ""},
		{"bücher.de", ""},                     // Latin with a diacritic
		{"пример.рф", ""},                     // Cyrillic under a Cyrillic TLD
		{"пример.com", ""},                    // Cyrillic that looks like nothing Latin
		{"ελληνικά.gr", ""},                   // Greek
		{"日本語.jp", ""},                        // Han
		{"日本abc.jp", ""},                      // Han with Latin: Japanese names mix them
		{"ひらがなカタカナ漢字.jp", ""},                 // Hiragana, Katakana and Han
		{"한국어abc.kr", ""},                     // Hangul with Latin
		{"ไทยabc.com", ""},                    // Latin with one other script, not Cyrillic or Greek
		{"exаmple.com", "Cyrillic and Latin"}, // Cyrillic а
		{"раypal.com", "Cyrillic and Latin"},
		{"gοogle.com", "Greek and Latin"}, // Greek ο
		{"mail.exаmple.com", "Cyrillic and Latin"},
		{"аррӏе.com", "entirely in Cyrillic"},
		{"ерос.com", "entirely in Cyrillic"},
		{"ab日本ひらがなкд.com", "mixes"},
		{"ไทยab한국.com", "mixes"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := NormalizeDomain(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := Lookalike(d)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("Lookalike(%s) = %q, want %q", d, got, tt.want)
			}
		})
	}
}

// A look-alike domain is asked about (Unicode and punycode shown), refused
// under --no-input unless --confirm-domain names this domain.
func TestAskAnswersConfirmsLookalike(t *testing.T) {
	const puny = "xn--exmple-4nf.com"
	tests := []struct {
		name    string
		opts    Options
		confirm string // the prompter's answer
		flag    string // the flag the error names; "" means accepted
		asked   bool
	}{
		{"asked, yes", Options{}, "y", "", true},
		{"asked, no", Options{}, "n", "--domain", true},
		{"no input", Options{NoInput: true}, "", "--confirm-domain " + puny, false},
		{"no input, confirmed", Options{NoInput: true, ConfirmDomain: puny}, "", "", false},
		{"no input, confirmed in Unicode", Options{NoInput: true, ConfirmDomain: "EXаMPLE.com."}, "", "", false},
		{"no input, another domain confirmed", Options{NoInput: true, ConfirmDomain: "xn--ypal-43d9g.com"}, "", "--confirm-domain", false},
		{"status asks nothing", Options{NoInput: true, ReadOnly: true}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &answering{answers: map[string]string{"confirm-domain": tt.confirm, "smtp-user": "u1"}}
			env := NewEnv(awsapi.Clients{}, &state.Answers{Domain: "exаmple.com", Region: "us-east-1", MailFromAsked: true, DMARCAsked: true}, tt.opts)
			env.Prompt = p
			err := AskAnswers(context.Background(), env, AskOptions{OutDir: outDir})
			if asked := strings.Contains(strings.Join(p.asked, ","), "confirm-domain"); asked != tt.asked {
				t.Errorf("asked %v, want the confirmation asked: %v", p.asked, tt.asked)
			}
			if tt.flag == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Flag != tt.flag || !strings.Contains(err.Error(), puny) {
				t.Fatalf("err = %v, want an InputError naming %s and showing %s", err, tt.flag, puny)
			}
		})
	}
}

func TestValidateHostPort(t *testing.T) {
	tests := []struct {
		in  string
		bad string // a word the error must hold; "" means accepted
	}{
		{"127.0.0.1:53", ""},
		{"[2001:db8::1]:53", ""},
		{"dns.example.com:5353", ""},
		{"localhost:25", ""},
		{"email-smtp.us-east-1.amazonaws.com:587", ""},
		{"", "required"},
		{"garbage", "host:port"},
		{"127.0.0.1", "host:port"},
		{"2001:db8::1", "host:port"},
		{":53", "no host"},
		{"host:", "port"},
		{"host:0", "port"},
		{"host:65536", "port"},
		{"host:-1", "port"},
		{"host:+53", "port"},
		{"host:smtp", "port"},
		{"bad_host:53", "only letters"},
		{"-host:53", "hyphen"},
		{"[not-ip]:53", "IP address"},
		{"a..b:53", "empty label"},
		{"xn--zz:53", "punycode"},
		{"host\n:53", "only letters"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := ValidateHostPort("resolver", "--resolver", tt.in, "127.0.0.1:53")
			if tt.bad == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Flag != "--resolver" || !strings.Contains(err.Error(), tt.bad) {
				t.Fatalf("ValidateHostPort(%q) = %v, want an InputError for --resolver saying %q", tt.in, err, tt.bad)
			}
		})
	}
}

func TestValidateAccessKeyID(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"AKIAIOSFODNN7EXAMPLE", true},
		{"ASIAIOSFODNN7EXAMPLE", true},
		{"AKIAOPERATORKEY00001", true},
		{strings.Repeat("A", 16), true},
		{"akiaiosfodnn7example", false},
		{"AKIA_IOSFODNN7EXAMPLE", false},
		{strings.Repeat("A", 128), true},
		{"", false},
		{"oops", false},
		{strings.Repeat("A", 15), false},
		{strings.Repeat("A", 129), false},
		{"AKIA-IOSFODNN7EXAMPLE", false},
		{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", false},
		{"AKIAIOSFODNN7EXAMPLE\n", false},
	} {
		err := ValidateAccessKeyID(tt.id)
		var ie *InputError
		if tt.ok != (err == nil) || err != nil && (!errors.As(err, &ie) || ie.Flag != "--replace-key") {
			t.Errorf("ValidateAccessKeyID(%q) = %v, want accepted: %v", tt.id, err, tt.ok)
		}
		if err != nil && strings.Contains(tt.id, "/") && strings.Contains(err.Error(), tt.id) {
			t.Errorf("ValidateAccessKeyID repeated what could be a secret key: %v", err)
		}
	}
}

func TestValidateCAFile(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	files := map[string]string{
		"good.pem":     certPEM,
		"chain.pem":    "# comment\n" + certPEM + certPEM,
		"key-only.pem": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("x")})),
		"text.pem":     "not a certificate\n",
		"empty.pem":    "",
		"garbled.pem":  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")})),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		path string
		bad  string
	}{
		{filepath.Join(dir, "good.pem"), ""},
		{filepath.Join(dir, "chain.pem"), ""},
		{filepath.Join(dir, "missing.pem"), "does not exist"},
		{dir, "not a regular file"},
		{filepath.Join(dir, "key-only.pem"), "no PEM certificate"},
		{filepath.Join(dir, "text.pem"), "no PEM certificate"},
		{filepath.Join(dir, "empty.pem"), "no PEM certificate"},
		{filepath.Join(dir, "garbled.pem"), "does not parse"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			err := ValidateCAFile(tt.path)
			if tt.bad == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Flag != "--smtp-ca" || !strings.Contains(err.Error(), tt.bad) {
				t.Fatalf("ValidateCAFile = %v, want an InputError for --smtp-ca saying %q", err, tt.bad)
			}
		})
	}
}

// An empty --zone-id given on this run clears a saved zone id; not giving
// it keeps the saved one.
func TestMergeAnswersZoneID(t *testing.T) {
	saved := state.Answers{ZoneID: "Z1"}
	for _, tt := range []struct {
		name string
		dst  state.Answers
		want string
	}{
		{"not given: the saved one", state.Answers{}, "Z1"},
		{"given empty: cleared", state.Answers{ZoneIDSet: true}, ""},
		{"given: the new one", state.Answers{ZoneID: "Z2", ZoneIDSet: true}, "Z2"},
	} {
		MergeAnswers(&tt.dst, saved)
		if tt.dst.ZoneID != tt.want {
			t.Errorf("%s: zone id %q, want %q", tt.name, tt.dst.ZoneID, tt.want)
		}
	}
}

func TestRevertAnswer(t *testing.T) {
	prev := state.Answers{Domain: "example.com", Region: "us-east-1", ZoneID: "Z1", MailFrom: "mail", MailFromAsked: true, SMTPUser: "u", OutDir: "/o"}
	cur := state.Answers{Domain: "example.com", Region: "us-east-1", ZoneID: "ZBAD", MailFrom: "bad", MailFromAsked: true, SMTPUser: "v", OutDir: "/p", DMARC: true, DMARCAsked: true}
	for field, check := range map[string]func(state.Answers) bool{
		"zone-id":   func(a state.Answers) bool { return a.ZoneID == "Z1" && a.SMTPUser == "v" },
		"mail-from": func(a state.Answers) bool { return a.MailFrom == "mail" && a.ZoneID == "ZBAD" },
		"smtp-user": func(a state.Answers) bool { return a.SMTPUser == "u" },
		"out":       func(a state.Answers) bool { return a.OutDir == "/o" },
		"dmarc":     func(a state.Answers) bool { return !a.DMARC && !a.DMARCAsked },
	} {
		a := cur
		if !RevertAnswer(&a, prev, field) || !check(a) {
			t.Errorf("RevertAnswer(%s) = %+v", field, a)
		}
	}
	a := cur
	if RevertAnswer(&a, prev, "domain") || a != cur {
		t.Errorf("the domain names the setup and is not reverted: %+v", a)
	}
}

// FuzzValidateHostPort checks that the host:port validator never panics,
// refuses only with an InputError naming the flag, and accepts only an
// address whose port is a number from 1 to 65535 and whose host holds no
// space or control character.
func FuzzValidateHostPort(f *testing.F) {
	for _, s := range []string{"127.0.0.1:53", "[::1]:53", "dns.example.com:5353", "garbage", ":53", "host:0", "host:65536", "host:+53", "[x]:1", "a..b:1", "xn--zz:53", "h\n:1", "1.2.3.4:053", "[fe80::1%eth0]:53"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateHostPort("resolver", "--resolver", s, "127.0.0.1:53")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Flag != "--resolver" {
				t.Fatalf("ValidateHostPort(%q): %v is not an InputError for --resolver", s, err)
			}
			return
		}
		host, port, serr := net.SplitHostPort(strings.TrimSpace(s))
		n, perr := strconv.Atoi(port)
		if serr != nil || perr != nil || n < 1 || n > 65535 || host == "" {
			t.Fatalf("ValidateHostPort accepted %q", s)
		}
		for _, r := range host {
			if r <= ' ' || r == 0x7f {
				t.Fatalf("ValidateHostPort accepted %q with a control character or space in the host", s)
			}
		}
	})
}

// FuzzValidateAccessKeyID checks that --replace-key takes exactly the
// shape of an access key id, and that a refusal never repeats a value that
// holds a slash or plus sign (a secret key's alphabet).
func FuzzValidateAccessKeyID(f *testing.F) {
	for _, s := range []string{"AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "oops", "", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", strings.Repeat("A", 129), "AKIA\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateAccessKeyID(s)
		ok := len(s) >= 16 && len(s) <= 128 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
		if ok != (err == nil) {
			t.Fatalf("ValidateAccessKeyID(%q) = %v, want accepted: %v", s, err, ok)
		}
		var ie *InputError
		if err != nil && (!errors.As(err, &ie) || ie.Flag != "--replace-key") {
			t.Fatalf("ValidateAccessKeyID(%q): %v is not an InputError for --replace-key", s, err)
		}
		if err != nil && strings.ContainsAny(s, "/+") && strings.Contains(err.Error(), s) {
			t.Fatalf("ValidateAccessKeyID(%q) repeated a value that could be a secret key", s)
		}
	})
}

// FuzzLookalike checks that the look-alike rule never panics on what
// NormalizeDomain accepts, and that a pure-ASCII name is never a look-alike.
func FuzzLookalike(f *testing.F) {
	for _, s := range []string{"example.com", "exаmple.com", "раypal.com", "аррӏе.com", "пример.рф", "日本abc.jp", "ไทยab한국.com", "gοogle.com", "xn--80ak6aa92e.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := NormalizeDomain(s)
		if err != nil {
			return
		}
		why := Lookalike(d)
		if !strings.Contains(d, "xn--") && why != "" {
			t.Fatalf("Lookalike(%q) = %q for an ASCII name", d, why)
		}
		if why != "" && !strings.Contains(why, "xn--") {
			t.Fatalf("Lookalike(%q) = %q does not show the punycode form", d, why)
		}
	})
}
