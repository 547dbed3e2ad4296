package postfix

import (
	"slices"
	"strings"
	"testing"
)

func TestDeferredForAuth(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want []string
	}{
		{"empty queue", "", nil},
		{"deferred for auth", `{"queue_name": "deferred", "queue_id": "4F1A2", "recipients": [{"address": "a@example.net", "delay_reason": "SASL authentication failed; server email-smtp.us-east-1.amazonaws.com[1.2.3.4] said: 535 Authentication Credentials Invalid"}]}`, []string{"4F1A2"}},
		{"deferred for another reason", `{"queue_name": "deferred", "queue_id": "9B", "recipients": [{"address": "a@example.net", "delay_reason": "connect to email-smtp.us-east-1.amazonaws.com[1.2.3.4]:587: Connection timed out"}]}`, nil},
		{"one of two", `{"queue_name": "active", "queue_id": "A1", "recipients": [{"address": "a@example.net"}]}
{"queue_name": "deferred", "queue_id": "B2", "recipients": [{"address": "b@example.net", "delay_reason": "host said: 535 Authentication Credentials Invalid (in reply to AUTH command)"}]}`, []string{"B2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deferredForAuth(tt.out)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("deferredForAuth = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := deferredForAuth("not json"); err == nil {
		t.Error("a line that is not JSON is an error, not an empty queue")
	}
}

// FuzzDeferredForAuth: any postqueue output is parsed or refused, never a
// panic, and an id is reported only from a message that has one.
func FuzzDeferredForAuth(f *testing.F) {
	f.Add(`{"queue_name": "deferred", "queue_id": "B2", "recipients": [{"address": "b@example.net", "delay_reason": "535 Authentication Credentials Invalid"}]}`)
	f.Add("")
	f.Add("{}\n{\"recipients\": null}")
	f.Fuzz(func(t *testing.T, out string) {
		ids, err := deferredForAuth(out)
		if err == nil && len(ids) > strings.Count(out, "\n")+1 {
			t.Fatalf("%d ids from %d lines", len(ids), strings.Count(out, "\n")+1)
		}
	})
}
