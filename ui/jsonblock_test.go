package ui

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/ses"
)

// policyPlan is the smtp-user step's plan for a new user: the user, its
// inline send policy (a JSON document of about 290 characters) and a key.
func policyPlan(region string) (*steps.Plan, string) {
	pol := ses.SMTPUserPolicy(region, "123456789012", "example.com")
	return &steps.Plan{Summary: "create the SMTP user", Changes: []steps.Change{
		{Action: steps.ActionCreate, Resource: "iam-user", Name: "ses-smtp-example-com", Value: "tags managed-by=sesame, sesame:domain=example.com"},
		{Action: steps.ActionCreate, Resource: "iam-policy", Name: "ses-smtp-example-com/" + ses.SMTPUserPolicyName(region), Value: pol,
			Note: "allows only ses:SendRawEmail as addresses @example.com in " + region},
		{Action: steps.ActionCreate, Resource: "access-key", Name: "new access key"},
	}}, pol
}

// TestPlanPolicyJSON: the IAM policy of the smtp-user plan is shown whole
// and fitted to the width, at 60 and 80 columns and in plain mode (no
// width): laid out over lines at JSON token boundaries, every line within
// the width, every token (each ARN, the action, the From condition) whole
// on one line, and the lines read back as the very document approved.
// Before, the 289-character value was cut mid-token (`...Conditio` /
// `n":{...`) to fit its cell, and plain mode printed it as one row.
func TestPlanPolicyJSON(t *testing.T) {
	st := DefaultStyles(forcedRenderer(io.Discard, false))
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		p, pol := policyPlan(region)
		arn := "arn:aws:ses:" + region + ":123456789012:"
		tokens := []string{`"ses:SendRawEmail"`, `"*@example.com"`, `"SesameSendAsDomain"`, `"2012-10-17"`,
			`"` + arn + `identity/*"`, `"` + arn + `configuration-set/*"`}
		for _, w := range []int{60, 80, 0} {
			lines := planTable(p, w, st)
			limit := w
			if w == 0 {
				limit = 120 // no width: as wide as the names and the other values, not as the policy (289 characters)
			}
			var doc []string
			in := false
			for _, l := range lines {
				if n := ansi.StringWidth(l); n > limit {
					t.Errorf("%s at %d: a line is %d wide: %q", region, w, n, l)
				}
				switch t := strings.TrimSpace(l); {
				case t == "{":
					in = true
				case in && strings.HasPrefix(t, "allows only"):
					in = false
				}
				if in {
					doc = append(doc, strings.TrimSpace(l))
				}
			}
			text := strings.Join(doc, "\n")
			for _, tok := range tokens {
				if !strings.Contains(text, tok) {
					t.Errorf("%s at %d: %s is not whole on one line:\n%s", region, w, tok, strings.Join(lines, "\n"))
				}
			}
			var got bytes.Buffer
			if err := json.Compact(&got, []byte(text)); err != nil || got.String() != pol {
				t.Errorf("%s at %d: the lines read back as %q (%v), want the policy %q", region, w, got.String(), err, pol)
			}
		}
	}
}

// TestJSONLines: the layout keeps what fits on one line, breaks a
// container member by member, puts a long value under its key, moves the
// elements of a list left together when one does not fit, and never
// breaks a token: one wider than the width stands alone.
func TestJSONLines(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		w    int
		want []string
	}{
		{"fits on one line", `{"a":1,"b":[true,null]}`, 40, []string{`{"a": 1, "b": [true, null]}`}},
		{"member by member", `{"a":"xxxxxxxx","b":["yy","zz"]}`, 20, []string{`{`, `  "a": "xxxxxxxx",`, `  "b": ["yy", "zz"]`, `}`}},
		{"a long value under its key", `{"key":"vvvvvvvvvvvv"}`, 18, []string{`{`, `  "key":`, `    "vvvvvvvvvvvv"`, `}`}},
		{"a list moves left together", `{"r":["aaaaaaaaaaaa","bbbbbbbbbbbbbb"]}`, 17, []string{`{`, `  "r": [`, ` "aaaaaaaaaaaa",`, ` "bbbbbbbbbbbbbb"`, `  ]`, `}`}},
		{"a token wider than the width stands alone", `["cccccccccccccccccccc"]`, 10, []string{`[`, `"cccccccccccccccccccc"`, `]`}},
		{"text is not a document", `v=spf1 include:amazonses.com ~all`, 10, nil},
		{"two documents are not one", `{} {}`, 10, nil},
		{"html characters stay as written", `{"c":"<a&b>"}`, 40, []string{`{"c": "<a&b>"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := parseJSONDoc(tt.doc)
			if !ok {
				if tt.want != nil {
					t.Fatalf("%q is not taken for a JSON document", tt.doc)
				}
				return
			}
			if tt.want == nil {
				t.Fatalf("%q is taken for a JSON document", tt.doc)
			}
			if got := jsonLines(n, tt.w); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("jsonLines(%q, %d) =\n%s\nwant\n%s", tt.doc, tt.w, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
