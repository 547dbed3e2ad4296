package ui

import (
	"strings"
	"testing"
)

// TestWrapKeepsWords: wrapping breaks at spaces only, so host names,
// flags, paths and record values stay whole; only a word wider than the
// line is broken.
func TestWrapKeepsWords(t *testing.T) {
	tests := []struct {
		s    string
		w    int
		want []string
	}{
		{"files in /tmp/sesame/shop.example-us-east-1/sasl_passwd now", 48, []string{"files in", "/tmp/sesame/shop.example-us-east-1/sasl_passwd", "now"}},
		{"v=spf1 include:amazonses.com include:_spf.mail-provider.example ~all", 50, []string{"v=spf1 include:amazonses.com", "include:_spf.mail-provider.example ~all"}},
		{"run sesame --request-production later", 20, []string{"run sesame", "--request-production", "later"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"one\ntwo three", 8, []string{"one", "two", "three"}},
	}
	for _, tt := range tests {
		got := wordWrap(tt.s, tt.w)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wordWrap(%q, %d) = %q, want %q", tt.s, tt.w, got, tt.want)
		}
	}
}
