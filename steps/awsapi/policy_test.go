package awsapi

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

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

	called := calledActions(t)
	// The walk must reach every package that calls AWS, not only the one
	// this test sits in: a leaf's calls count as much as a step's.
	for _, pkg := range []string{"steps", "steps/dns/route53"} {
		found := false
		for _, pkgs := range called {
			found = found || slices.Contains(pkgs, pkg)
		}
		if !found {
			t.Errorf("found no AWS call in %s: the walk of the tree or the pattern is stale", pkg)
		}
	}
	if len(called) < 10 {
		t.Fatalf("found only %d actions in the sources: is the pattern stale?", len(called))
	}
	for a, pkgs := range called {
		if !slices.Contains(operatorActions, a) {
			t.Errorf("%s calls %s, which operatorActions (and so `sesame policy`) lacks", strings.Join(pkgs, ", "), a)
		}
	}
}

// actionInSource finds the IAM action of every explained AWS call in
// sesame's sources: the op of an Explain call (or of the smtp-user step's
// explainDenied), and the Op of a Route 53 provider's *route53.Error.
// Each is an action sesame calls.
var actionInSource = regexp.MustCompile(`(?:(?:Explain|explainDenied)\(|\bError\{)\s*"((?:sts|ses|route53|iam):[A-Za-z]+)"`)

// calledActions walks the whole module from its root, every package (the
// wizard in steps, its leaves, cmd), and returns each action found in the
// non-test sources with the packages (slash paths from the module root)
// that call it. The simulator is skipped: it answers these calls, it does
// not make them.
func calledActions(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root is not two levels up from steps/awsapi: %v", err)
	}
	called := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "awssim" || name == "sesame-sim") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		for _, m := range actionInSource.FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(called[m[1]], pkg) {
				called[m[1]] = append(called[m[1]], pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return called
}

// TestOperatorActionsAreTheClientsMethods: every AWS call sesame makes goes
// through the narrow client interfaces, so their methods are exactly the
// actions the operator's policy must grant: one more method without its
// action would be a call the policy denies, one action without a method a
// permission sesame never uses.
func TestOperatorActionsAreTheClientsMethods(t *testing.T) {
	ifaces := []struct {
		prefix string
		typ    reflect.Type
	}{
		{"sts:", reflect.TypeFor[STS]()},
		{"ses:", reflect.TypeFor[SES]()},
		{"route53:", reflect.TypeFor[Route53]()},
		{"iam:", reflect.TypeFor[IAM]()},
	}
	var methods []string
	for _, it := range ifaces {
		for i := range it.typ.NumMethod() {
			methods = append(methods, it.prefix+it.typ.Method(i).Name)
		}
	}
	slices.Sort(methods)
	actions := slices.Sorted(slices.Values(operatorActions))
	if !slices.Equal(methods, actions) {
		t.Errorf("the clients' methods are\n  %v\nbut operatorActions is\n  %v", methods, actions)
	}
}

// TestOperatorPolicyFor: the operator policy's ARNs are in the partition
// sesame runs in (IAM refuses arn:aws: in GovCloud with
// MalformedPolicyDocument; IAM User Guide, "IAM identifiers", "IAM ARNs"),
// and its IAM statement covers the SMTP user the operator names.
func TestOperatorPolicyFor(t *testing.T) {
	tests := []struct {
		partition, user string
		wantIAM         string
		wantZone        string
	}{
		{"", "", "arn:aws:iam::*:user/ses-smtp-*", "arn:aws:route53:::hostedzone/*"},
		{"aws", "mail-relay", "arn:aws:iam::*:user/mail-relay", "arn:aws:route53:::hostedzone/*"},
		{"aws-us-gov", "", "arn:aws-us-gov:iam::*:user/ses-smtp-*", "arn:aws-us-gov:route53:::hostedzone/*"},
		{"aws-cn", "relay@example.com", "arn:aws-cn:iam::*:user/relay@example.com", "arn:aws-cn:route53:::hostedzone/*"},
	}
	for _, tt := range tests {
		t.Run(tt.partition+"/"+tt.user, func(t *testing.T) {
			var doc struct {
				Statement []struct {
					Action   []string
					Resource []string
				}
			}
			out := OperatorPolicyFor(tt.partition, tt.user)
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			granted := map[string][]string{}
			for _, s := range doc.Statement {
				for _, a := range s.Action {
					granted[a] = append(granted[a], s.Resource...)
				}
			}
			if !slices.Equal(granted["iam:CreateUser"], []string{tt.wantIAM}) {
				t.Errorf("iam:CreateUser on %v, want %s", granted["iam:CreateUser"], tt.wantIAM)
			}
			if !slices.Equal(granted["route53:ChangeResourceRecordSets"], []string{tt.wantZone}) {
				t.Errorf("route53:ChangeResourceRecordSets on %v, want %s", granted["route53:ChangeResourceRecordSets"], tt.wantZone)
			}
			if want := "arn:aws:"; tt.partition != "" && tt.partition != "aws" && strings.Contains(out, want) {
				t.Errorf("a %s policy names %s:\n%s", tt.partition, want, out)
			}
		})
	}
}
