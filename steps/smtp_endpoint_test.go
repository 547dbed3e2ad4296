package steps

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sesame-tool/sesame/steps/smtpcheck"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func TestSMTPEndpoint(t *testing.T) {
	tests := []struct {
		opts     Options
		want     string
		implicit bool
	}{
		{Options{}, "email-smtp.eu-west-1.amazonaws.com:587", false},
		{Options{SMTPPort: 465}, "email-smtp.eu-west-1.amazonaws.com:465", true},
		{Options{SMTPPort: 2587}, "email-smtp.eu-west-1.amazonaws.com:2587", false},
		{Options{SMTPPort: 2465, SMTPEndpoint: "127.0.0.1:2525"}, "127.0.0.1:2525", false},
	}
	for _, tt := range tests {
		got := SMTPEndpoint(tt.opts, "eu-west-1")
		if got != tt.want || smtpcheck.ImplicitTLS(got) != tt.implicit {
			t.Errorf("SMTPEndpoint(%+v) = %s (implicit %v), want %s (implicit %v)", tt.opts, got, smtpcheck.ImplicitTLS(got), tt.want, tt.implicit)
		}
	}
}

func TestSMTPRootsIsInputError(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(notPEM, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ie *InputError
	if _, err := smtpRoots(notPEM); !errors.As(err, &ie) || ie.Flag != "--smtp-ca" {
		t.Errorf("smtpRoots(non-PEM) = %v, want an input error naming --smtp-ca", err)
	}
	if roots, err := smtpRoots(""); roots != nil || err != nil {
		t.Errorf(`smtpRoots("") = %v, %v; want the system roots (nil)`, roots, err)
	}
}
