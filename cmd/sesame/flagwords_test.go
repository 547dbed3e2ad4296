package main

import (
	"strings"
	"testing"
)

// TestFlagValuesInWords: a value a flag or its SESAME_ variable cannot
// take is refused in words that say what it takes, never with strconv's
// or time's own text.
func TestFlagValuesInWords(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"SESAME_DMARC=maybe", nil, map[string]string{"SESAME_DMARC": "maybe"}, `SESAME_DMARC="maybe": --dmarc takes true or false`},
		{"--dmarc=maybe", []string{"--dmarc=maybe"}, nil, `--dmarc "maybe": it takes true or false`},
		{"--timeout without a unit", []string{"--timeout", "20"}, nil, `--timeout "20": it takes a duration with its unit, such as 90s, 15m or 72h`},
		{"SESAME_TIMEOUT without a unit", nil, map[string]string{"SESAME_TIMEOUT": "20"}, `SESAME_TIMEOUT="20": --timeout takes a duration`},
		{"--smtp-port x", []string{"--smtp-port", "x"}, nil, `--smtp-port "x": it takes a whole number`},
		{"-y=maybe names the long flag", []string{"-y=maybe"}, nil, `--yes "maybe": it takes true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.args, tt.env)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q lacks %q", msg, tt.want)
			}
			for _, bad := range []string{"strconv", "ParseBool", "invalid syntax", "time: "} {
				if strings.Contains(msg, bad) {
					t.Errorf("error %q has Go's own text %q", msg, bad)
				}
			}
		})
	}
}
