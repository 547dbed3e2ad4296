package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/awsapi"
	"github.com/sesame-tool/sesame/steps/state"
)

// credStep is a step that finds SMTP credentials, password included.
type credStep struct{}

func (credStep) ID() string    { return "smtp-user" }
func (credStep) Title() string { return "Create SMTP credentials" }
func (credStep) Check(_ context.Context, env *steps.Env) (steps.Result, error) {
	env.Facts.Credentials = &steps.Credentials{UserName: "ses-smtp-example-com", AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
		Host: "email-smtp.eu-west-1.amazonaws.com", Port: 587, Password: testPassword, File: "/out/sasl_passwd"}
	env.Publish("smtp-user", env.Facts.Credentials)
	return steps.Result{Status: steps.StatusDone, Detail: "key AKIAIOSFODNN7EXAMPLE"}, nil
}
func (credStep) Plan(context.Context, *steps.Env) (steps.Plan, error) { return steps.Plan{}, nil }
func (credStep) Apply(context.Context, *steps.Env) error              { return nil }

func TestWriteJSONNeverHoldsThePassword(t *testing.T) {
	var events bytes.Buffer
	env := steps.NewEnv(awsapi.Clients{}, &state.Answers{Domain: "example.com", Region: "eu-west-1"}, steps.Options{})
	env.Emit = NewPlain(&events, false).Event
	rep, err := (&steps.Runner{Steps: []steps.Step{credStep{}}}).Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, rep); err != nil {
		t.Fatal(err)
	}
	var summary bytes.Buffer
	PrintSummary(&summary, rep, nil, true)
	for name, s := range map[string]string{"json": out.String(), "events": events.String(), "summary": summary.String()} {
		if strings.Contains(s, testPassword) || strings.Contains(s, testPassword[:10]) {
			t.Errorf("%s holds the SMTP password", name)
		}
	}
	var doc struct {
		Domain string `json:"domain"`
		Steps  []struct{ ID, Status string }
		SMTP   map[string]any `json:"smtp"`
		Files  []string       `json:"files"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if doc.Domain != "example.com" || len(doc.Steps) != 1 || doc.Steps[0].Status != "done" || doc.SMTP["username"] != "AKIAIOSFODNN7EXAMPLE" || len(doc.Files) != 1 {
		t.Fatalf("document %+v", doc)
	}
	if _, ok := doc.SMTP["password"]; ok {
		t.Fatal("smtp has a password field")
	}
}

func TestWriteJSONNilReport(t *testing.T) {
	if err := WriteJSON(&bytes.Buffer{}, nil); err == nil {
		t.Fatal("no error for a run that ended without a report")
	}
}
