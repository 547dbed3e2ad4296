package postfix

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRemoveSASLEntries(t *testing.T) {
	mine := Line(testEntry)
	users := []string{testEntry.Username}
	tests := []struct {
		name, data, want string
		removed          int
		empty            bool
	}{
		{"sesame's own file: nothing left", saslHeader + mine, saslHeader, 1, true},
		{"another relay's entry and the operator's comment stay byte for byte",
			"# my relays\r\n[smtp.other.example]:587 user:pass\n" + mine + "\n",
			"# my relays\r\n[smtp.other.example]:587 user:pass\n\n", 1, false},
		{"another SES region's entry (another key) stays",
			saslHeader + "[email-smtp.eu-west-1.amazonaws.com]:587 AKIAOTHEROTHEROTHER1:BOTHER\n" + mine,
			saslHeader + "[email-smtp.eu-west-1.amazonaws.com]:587 AKIAOTHEROTHEROTHER1:BOTHER\n", 1, false},
		{"no entry of these keys: unchanged",
			"[c.example]:587 c:d\n  continued\n", "[c.example]:587 c:d\n  continued\n", 0, false},
		{"a continuation line after sesame's entry goes with it",
			mine + "  continued\n[c.example]:587 c:d\n", "[c.example]:587 c:d\n", 1, false},
		{"an empty file is empty", "", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, empty := RemoveSASLEntries([]byte(tt.data), users)
			if string(got) != tt.want || n != tt.removed || empty != tt.empty {
				t.Fatalf("RemoveSASLEntries = %q, %d, %v; want %q, %d, %v", got, n, empty, tt.want, tt.removed, tt.empty)
			}
		})
	}
}

// PlanWithdraw takes out only the entries of the SES host whose key is
// one of sesame's, at any port; another key's entry for the host is kept
// and listed, another host's entry with sesame's key is not sesame's to
// take (another region's setup), and every other line stays byte for
// byte.
func TestPlanWithdraw(t *testing.T) {
	const host = "email-smtp.us-east-1.amazonaws.com"
	mine := "[" + host + "]:587 AKIAMINE:pw1\n"
	tests := []struct {
		name, data, want string
		removed, kept    []string
	}{
		{"sesame's entry goes, the rest stays",
			"# mine\r\n[smtp.other.example]:587 bob:pw\n" + mine + "\n", "# mine\r\n[smtp.other.example]:587 bob:pw\n\n", []string{"AKIAMINE"}, nil},
		{"another key for the host stays and is listed",
			"[" + host + "]:2587 AKIATHEIRS:pw2\n" + mine, "[" + host + "]:2587 AKIATHEIRS:pw2\n", []string{"AKIAMINE"}, []string{"[" + host + "]:2587 AKIATHEIRS"}},
		{"sesame's key at another SES host is another region's: kept",
			"[email-smtp.eu-west-1.amazonaws.com]:587 AKIAMINE:pw3\n", "[email-smtp.eu-west-1.amazonaws.com]:587 AKIAMINE:pw3\n", nil, nil},
		{"host compared without case, a continuation goes with its entry",
			"[EMAIL-SMTP.us-east-1.amazonaws.com]:587 AKIAMINE:pw1\n  more\n# end\n", "# end\n", []string{"AKIAMINE"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, SASLPasswdFile), []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			w, err := PlanWithdraw(dir, host, []string{"AKIAMINE"})
			if err != nil {
				t.Fatal(err)
			}
			if string(w.Data) != tt.want || !slices.Equal(w.Removed, tt.removed) || !slices.Equal(w.Kept, tt.kept) {
				t.Fatalf("PlanWithdraw = %q, removed %v, kept %v; want %q, %v, %v", w.Data, w.Removed, w.Kept, tt.want, tt.removed, tt.kept)
			}
		})
	}
	if w, err := PlanWithdraw(t.TempDir(), host, []string{"AKIAMINE"}); err != nil || w.Path != "" {
		t.Errorf("no file: %+v, %v; want an empty withdrawal", w, err)
	}
}

func TestMainCFValue(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"unset is Postfix's default, empty", "myhostname = a\n", ""},
		{"the last definition wins", "relayhost = [a]:587\n# relayhost = [c]\nrelayhost = [b]:587\n", "[b]:587"},
		{"continuation lines join", "relayhost =\n  [email-smtp.us-east-1.amazonaws.com]:587\n", "[email-smtp.us-east-1.amazonaws.com]:587"},
		{"another parameter's name as a prefix is not it", "relayhosts = x\n", ""},
	}
	for _, tt := range tests {
		if got := MainCFValue([]byte(tt.data), "relayhost"); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
