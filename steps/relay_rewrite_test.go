package steps

import (
	"context"
	"slices"
	"testing"

	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// TestRelayAsksRewrite: with --apply-postfix on an interactive run, the
// relay step asks once for the address local senders become; a flag, a
// non-interactive run or --yes answer it without asking; an address that
// is not one is refused.
func TestRelayAsksRewrite(t *testing.T) {
	cases := []struct {
		name      string
		opts      Options
		answer    string
		wantAsked bool
		want      string
		wantErr   bool
	}{
		{"asked with --apply-postfix", Options{ApplyPostfix: true}, "postmaster@example.com", true, "postmaster@example.com", false},
		{"an empty answer is no", Options{ApplyPostfix: true}, "", true, "", false},
		{"a bad address is refused", Options{ApplyPostfix: true}, "root", true, "", true},
		{"not without --apply-postfix", Options{}, "x@example.com", false, "", false},
		{"not when the flag answered", Options{ApplyPostfix: true, RewriteLocalSenders: "a@example.com"}, "x@example.com", false, "", false},
		{"not with --no-input", Options{ApplyPostfix: true, NoInput: true}, "x@example.com", false, "", false},
		{"not with --yes", Options{ApplyPostfix: true, Yes: true}, "x@example.com", false, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com"}, c.opts)
			p := &answering{answers: map[string]string{"rewrite-local-senders": c.answer}}
			env.Prompt = p
			r := &Relay{}
			err := r.askRewrite(context.Background(), env)
			if (err != nil) != c.wantErr || r.rewrite != c.want || slices.Contains(p.asked, "rewrite-local-senders") != c.wantAsked {
				t.Fatalf("askRewrite = %v, rewrite %q, asked %v", err, r.rewrite, p.asked)
			}
			if err == nil {
				_ = r.askRewrite(context.Background(), env)
				if len(p.asked) > 1 {
					t.Errorf("asked twice: %v", p.asked)
				}
			}
		})
	}
}
