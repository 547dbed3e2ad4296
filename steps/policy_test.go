package steps

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// explainOp finds the IAM action of every Explain call in the steps'
// sources: each is an action sesame calls.
var explainOp = regexp.MustCompile(`(?:Explain|explainDenied)\(\s*"((?:sts|ses|route53|iam):[A-Za-z]+)"`)

func TestOperatorPolicy(t *testing.T) {
	var doc struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(OperatorPolicy()), &doc); err != nil {
		t.Fatalf("the policy is not JSON: %v", err)
	}
	granted := map[string][]string{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || len(s.Resource) == 0 {
			t.Errorf("statement %+v", s)
		}
		for _, a := range s.Action {
			granted[a] = append(granted[a], s.Resource...)
		}
	}
	for _, a := range operatorActions {
		if len(granted[a]) == 0 {
			t.Errorf("the policy does not grant %s", a)
		}
	}
	scoped := map[string]string{
		"iam:CreateAccessKey":              "arn:aws:iam::*:user/ses-smtp-*",
		"route53:ChangeResourceRecordSets": "arn:aws:route53:::hostedzone/*",
		"route53:GetChange":                "arn:aws:route53:::change/*",
	}
	for a, r := range scoped {
		if !slices.Equal(granted[a], []string{r}) {
			t.Errorf("%s is granted on %v, want only %s", a, granted[a], r)
		}
	}

	files, _ := filepath.Glob("*.go")
	called := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range explainOp.FindAllStringSubmatch(string(src), -1) {
			called[m[1]] = true
		}
	}
	if len(called) < 10 {
		t.Fatalf("found only %d actions in the sources: is the pattern stale?", len(called))
	}
	for a := range called {
		if !slices.Contains(operatorActions, a) {
			t.Errorf("a step calls %s, which operatorActions (and so `sesame policy`) lacks", a)
		}
	}
}
