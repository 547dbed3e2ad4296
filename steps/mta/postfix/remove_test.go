package postfix

import "testing"

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
