package dns

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// mapResolver answers from a map keyed "name TYPE" (name without the
// trailing dot), or fails with the error errs holds for the key.
type mapResolver struct {
	answers map[string][]string
	errs    map[string]error
}

func (r *mapResolver) Lookup(_ context.Context, name, qtype string) ([]string, error) {
	k := strings.TrimSuffix(strings.ToLower(name), ".") + " " + qtype
	if err := r.errs[k]; err != nil {
		return nil, err
	}
	return slices.Clone(r.answers[k]), nil
}

func TestObserve(t *testing.T) {
	recs := DesiredRecords("example.com", "us-east-1", []string{"tok1", "tok2", "tok3"}, "dkim.amazonses.com", "mail", true)
	r := &mapResolver{
		answers: map[string][]string{
			"tok1._domainkey.example.com CNAME": {"TOK1.dkim.amazonses.com."},
			"tok2._domainkey.example.com CNAME": {"old.dkim.amazonses.com."},
			"mail.example.com MX":               {"10 feedback-smtp.us-east-1.amazonses.com."},
			"mail.example.com TXT":              {"other", "v=spf1 include:amazonses.com include:_spf.example.net ~all"},
			"_dmarc.example.com TXT":            {"v=DMARC1; p=reject"},
		},
		errs: map[string]error{"tok3._domainkey.example.com CNAME": errors.New("i/o timeout")},
	}
	got := Observe(context.Background(), r, recs)
	want := []string{"visible", "different", "unknown", "visible", "visible", "visible"}
	for i, v := range got {
		if v.State != want[i] {
			t.Errorf("%s %s: %s (observed %q), want %s", v.Name, v.Type, v.State, v.Observed, want[i])
		}
	}
	delete(r.answers, "mail.example.com MX")
	if got := Observe(context.Background(), r, recs[3:4]); got[0].State != "missing" {
		t.Errorf("no MX: %s", got[0].State)
	}
	if got := Observe(context.Background(), nil, recs); got[0].State != "unknown" {
		t.Errorf("nil resolver: %s", got[0].State)
	}
}
