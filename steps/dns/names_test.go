package dns

import (
	"slices"
	"testing"
)

func TestZoneCandidates(t *testing.T) {
	tests := []struct {
		domain string
		want   []string
	}{
		{"example.com", []string{"example.com"}},
		{"mail.shop.example.com", []string{"mail.shop.example.com", "shop.example.com", "example.com"}},
		{"shop.example.co.uk", []string{"shop.example.co.uk", "example.co.uk"}},
		{"localhost", []string{"localhost"}},
	}
	for _, tt := range tests {
		if got := ZoneCandidates(tt.domain); !slices.Equal(got, tt.want) {
			t.Errorf("ZoneCandidates(%q) = %q, want %q", tt.domain, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"NormName lower case, one dot", NormName(" Mail.Example.COM.. "), "mail.example.com."},
		{"NormName decodes octal escapes", NormName(`\052.example.com`), "*.example.com."},
		{"ParentName", ParentName("a.b.c."), "b.c."},
		{"ParentName of the root's child", ParentName("com."), ""},
		{"NormMX", NormMX("010  Feedback-SMTP.us-east-1.amazonses.com"), "10 feedback-smtp.us-east-1.amazonses.com."},
		{"NormMX of a malformed value", NormMX("X Host"), "x host"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	holds := []struct {
		zone, name string
		want       bool
	}{
		{"example.com", "example.com.", true},
		{"example.com.", "_dmarc.Example.com", true},
		{"example.com", "badexample.com", false},
		{"shop.example.com", "example.com", false},
	}
	for _, tt := range holds {
		if got := ZoneHolds(tt.zone, tt.name); got != tt.want {
			t.Errorf("ZoneHolds(%q, %q) = %v, want %v", tt.zone, tt.name, got, tt.want)
		}
	}
}

func TestDMARCPolicy(t *testing.T) {
	tags := DMARCTags("v=DMARC1; P=Reject; sp=quarantine; p=none; rua=mailto:d@example.com")
	if tags["p"] != "reject" || tags["sp"] != "quarantine" || tags["rua"] != "mailto:d@example.com" {
		t.Errorf("DMARCTags = %v (the first p= counts, values lower case)", tags)
	}
	order := []string{"none", "quarantine", "reject"}
	for i, p := range order {
		if DMARCStrength(p) != i {
			t.Errorf("DMARCStrength(%q) = %d, want %d", p, DMARCStrength(p), i)
		}
	}
	if DMARCStrength("bogus") != -1 || DMARCStrength("") != -1 {
		t.Error("an unknown policy has strength -1")
	}
	if !IsDMARC(" V=DMARC1; p=none") || IsDMARC("v=spf1 ~all") {
		t.Error("IsDMARC")
	}
}
