package postfix

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// FuzzValidateDir: an accepted directory is absolute, one line,
// free of control characters and of what Postfix splits or expands, and
// the script names it in exactly one quoted assignment.
func FuzzValidateDir(f *testing.F) {
	for _, s := range []string{"/etc/postfix", "/etc/postfix\ntouch /tmp/x\n#", "relative", "/a b", "/'q'", "/$(x)", "/`x`;y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dir string) {
		if ValidateDir(dir) != nil || dir == "" {
			return
		}
		if !filepath.IsAbs(dir) || strings.ContainsAny(dir, " \t\n\r,$") || strings.IndexFunc(dir, unicode.IsControl) >= 0 {
			t.Fatalf("accepted %q", dir)
		}
		c := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW", PostfixDir: dir}
		if !strings.Contains(c.ApplyScript(), "\npostfix_dir="+shellQuote(dir)+"\n") {
			t.Fatalf("the script does not assign %q quoted", dir)
		}
	})
}

func TestHasSesameMark(t *testing.T) {
	c := Config{Region: "us-east-1", Port: 587, Username: testKeyID, Password: "BPW"}
	for name, tt := range map[string]struct {
		data string
		want bool
	}{
		"the snippet":               {c.MainCF(), true},
		"the script":                {c.ApplyScript(), true},
		"sasl_passwd":               {c.SASLPasswd(), true},
		"an operator's snippet":     {"relayhost = [smtp.example]:587\n", false},
		"an operator's script":      {"#!/bin/sh\necho mine\n", false},
		"the mark further down":     {"#!/bin/sh\n# mine\n# Written by sesame\n", false},
		"empty":                     {"", false},
		"the mark not at the start": {"x # Written by sesame\n", false},
	} {
		if got := hasSesameMark([]byte(tt.data)); got != tt.want {
			t.Errorf("%s: hasSesameMark = %v, want %v", name, got, tt.want)
		}
	}
}
