package ses

import (
	"strings"
	"testing"
)

func TestSMTPPortFacts(t *testing.T) {
	tests := []struct {
		port        int
		ok          bool
		implicitTLS bool
		orDefault   int
		wantMsg     string // a substring of CheckSMTPPort's error
	}{
		{port: 587, ok: true, orDefault: 587},
		{port: 2587, ok: true, orDefault: 2587},
		{port: 465, ok: true, implicitTLS: true, orDefault: 465},
		{port: 2465, ok: true, implicitTLS: true, orDefault: 2465},
		{port: 0, orDefault: DefaultSMTPPort, wantMsg: "0 is not an SES SMTP port"},
		{port: 25, orDefault: 25, wantMsg: "port 25 is throttled on EC2"},
		{port: 2525, orDefault: 2525, wantMsg: "use " + SMTPPortsText},
	}
	for _, tt := range tests {
		err := CheckSMTPPort(tt.port)
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
			t.Errorf("CheckSMTPPort(%d) = %v, want ok %v (%q)", tt.port, err, tt.ok, tt.wantMsg)
		}
		if got := ImplicitTLS(tt.port); got != tt.implicitTLS {
			t.Errorf("ImplicitTLS(%d) = %v, want %v", tt.port, got, tt.implicitTLS)
		}
		if got := PortOrDefault(tt.port); got != tt.orDefault {
			t.Errorf("PortOrDefault(%d) = %d, want %d", tt.port, got, tt.orDefault)
		}
	}
}

func TestCredentialShapes(t *testing.T) {
	tests := []struct {
		s               string
		keyID, password bool
	}{
		{s: "AKIAIOSFODNN7EXAMPLE", keyID: true},
		{s: "ASIAIOSFODNN7EXAMPLE", keyID: true},
		{s: "AKIAiosfodnn7example"},
		{s: "AKIAIOSFODNN7EXAMPL"},
		{s: "ses-smtp-example-com"},
		{s: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{s: SMTPPassword("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"), password: true},
		{s: SMTPPassword("another+secret+key", "eu-central-1"), password: true},
		{s: "A" + SMTPPassword("x", "us-east-1")[1:]},
	}
	for _, tt := range tests {
		if got := LooksLikeAccessKeyID(tt.s); got != tt.keyID {
			t.Errorf("LooksLikeAccessKeyID(%q) = %v, want %v", tt.s, got, tt.keyID)
		}
		if got := LooksLikeSMTPPassword(tt.s); got != tt.password {
			t.Errorf("LooksLikeSMTPPassword(%q) = %v, want %v", tt.s, got, tt.password)
		}
	}
}
