package ui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sesame-tool/sesame/steps"
)

func TestLinePrompter(t *testing.T) {
	opts := []steps.Option{{Value: "us-east-1", Label: "us-east-1"}, {Value: "eu-west-1", Label: "eu-west-1", Detail: "Ireland"}}
	tests := []struct {
		name    string
		in      string
		ask     func(*LinePrompter) (string, error)
		want    string
		wantOut []string
		wantErr error
	}{
		{"confirm default", "\n", func(p *LinePrompter) (string, error) {
			ok, err := p.Confirm(context.Background(), steps.Question{Title: "Apply?", Default: "n"})
			return yn(ok), err
		}, "n", []string{"Apply? [y/N]: "}, nil},
		{"confirm asks again", "maybe\nyes\n", func(p *LinePrompter) (string, error) {
			ok, err := p.Confirm(context.Background(), steps.Question{Title: "Apply?", Plan: dnsPlan()})
			return yn(ok), err
		}, "y", []string{"Please answer y or n.", "create 4 records", "mail.example.com"}, nil},
		{"choose by number", "3\n2\n", func(p *LinePrompter) (string, error) {
			return p.Choose(context.Background(), steps.Question{Title: "Region"}, opts)
		}, "eu-west-1", []string{"  1) us-east-1", "  2) eu-west-1 - Ireland", "a number from 1 to 2"}, nil},
		{"choose default", "\n", func(p *LinePrompter) (string, error) {
			return p.Choose(context.Background(), steps.Question{Title: "Region", Default: "eu-west-1"}, opts)
		}, "eu-west-1", []string{"(default)", "Enter for 2"}, nil},
		{"a list without a named default takes the first", "\n", func(p *LinePrompter) (string, error) {
			return p.Choose(context.Background(), steps.Question{Title: "What mail will you send?"}, opts)
		}, "us-east-1", []string{"  1) us-east-1 (default)", "Enter for 1"}, nil},
		{"input validates", "exa\nexample.com\n", func(p *LinePrompter) (string, error) {
			return p.Input(context.Background(), steps.Question{Title: "Domain"}, validateDomain)
		}, "example.com", []string{"Not accepted: domain: a domain looks like example.com (set it with --domain)"}, nil},
		{"input without a final newline", "mail", func(p *LinePrompter) (string, error) {
			return p.Input(context.Background(), steps.Question{Title: "MAIL FROM", Default: "x"}, nil)
		}, "mail", []string{"MAIL FROM [x]: "}, nil},
		{"a question names its flag, as in the TUI", "\n", func(p *LinePrompter) (string, error) {
			return p.Choose(context.Background(), steps.Question{Title: "Send a test message?", Detail: "One message through SES.", Flag: "--test-to"}, opts)
		}, "us-east-1", []string{"One message through SES.\n(next time: --test-to)\n"}, nil},
		{"input ends", "", func(p *LinePrompter) (string, error) {
			return p.Input(context.Background(), steps.Question{Title: "Domain"}, nil)
		}, "", nil, ErrNoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &LinePrompter{In: strings.NewReader(tt.in), Out: &out}
			got, err := tt.ask(p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestLinePrompterCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &LinePrompter{In: strings.NewReader("a\n"), Out: &bytes.Buffer{}}
	if _, err := p.Input(ctx, steps.Question{Title: "Domain"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func yn(b bool) string {
	if b {
		return "y"
	}
	return "n"
}

// TestLinePrompterPlanOnce: with PlansShown (the plain reporter printed
// the plan), an approval refers to the plan above instead of printing it
// again.
func TestLinePrompterPlanOnce(t *testing.T) {
	for _, shown := range []bool{false, true} {
		var out strings.Builder
		p := &LinePrompter{In: strings.NewReader("y\n"), Out: &out, PlansShown: shown}
		ok, err := p.Confirm(context.Background(), steps.Question{Title: "Apply this plan?", Plan: dnsPlan()})
		if err != nil || !ok {
			t.Fatalf("Confirm: %v %v", ok, err)
		}
		rows := strings.Count(out.String(), "_domainkey.example.com")
		if want := map[bool]int{false: 3, true: 0}[shown]; rows != want {
			t.Errorf("PlansShown %v: the plan's DKIM rows printed %d times, want %d:\n%s", shown, rows, want, out.String())
		}
		if shown && !strings.Contains(out.String(), "The plan above: create 4 records") {
			t.Errorf("the approval does not name the plan above:\n%s", out.String())
		}
	}
}
