package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sesame-tool/sesame/steps"
)

// scripted answers questions from a list, and can go back at one.
type scripted struct {
	asked   []steps.Question
	answers []string // "<back>" returns ErrBack
}

func (s *scripted) take(q steps.Question) (string, error) {
	s.asked = append(s.asked, q)
	a := s.answers[0]
	s.answers = s.answers[1:]
	if a == "<back>" {
		return "", ErrBack
	}
	return a, nil
}

func (s *scripted) Confirm(_ context.Context, q steps.Question) (bool, error) {
	a, err := s.take(q)
	return a == "y", err
}

func (s *scripted) Choose(_ context.Context, q steps.Question, _ []steps.Option) (string, error) {
	return s.take(q)
}

func (s *scripted) Input(_ context.Context, q steps.Question, _ func(string) error) (string, error) {
	return s.take(q)
}

// askAll is a round of questions as AskAnswers asks them: in order, the
// later ones depending on nothing.
func askAll(p steps.Prompter) (map[string]string, error) {
	got := map[string]string{}
	for _, id := range []string{"domain", "region", "smtp-user"} {
		var v string
		var err error
		if id == "region" {
			v, err = p.Choose(context.Background(), steps.Question{ID: id}, nil)
		} else {
			v, err = p.Input(context.Background(), steps.Question{ID: id}, nil)
		}
		if err != nil {
			return got, err
		}
		got[id] = v
	}
	ok, err := p.Confirm(context.Background(), steps.Question{ID: "dmarc", Default: "n"})
	got["dmarc"] = map[bool]string{true: "y", false: "n"}[ok]
	return got, err
}

// TestHistoryGoesBack: after ErrBack, the next round replays the answers
// before the previous question without asking, asks that one again with
// the old answer as its default, and asks the rest anew.
func TestHistoryGoesBack(t *testing.T) {
	s := &scripted{answers: []string{"shop.example", "eu-west-1", "<back>", "us-east-1", "ses-user", "y"}}
	var h History
	got, err := askAll(h.Prompter(s))
	if !errors.Is(err, ErrBack) {
		t.Fatalf("first round: %v", err)
	}
	if !h.Back() {
		t.Fatal("Back found nothing to go back to")
	}
	got, err = askAll(h.Prompter(s))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"domain": "shop.example", "region": "us-east-1", "smtp-user": "ses-user", "dmarc": "y"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// Asked: domain, region, smtp-user (back), then region again with the
	// old answer as default, smtp-user, dmarc; the domain was replayed.
	var ids []string
	for _, q := range s.asked {
		ids = append(ids, q.ID)
	}
	if want := "domain region smtp-user region smtp-user dmarc"; strings.Join(ids, " ") != want {
		t.Errorf("asked %q, want %q", strings.Join(ids, " "), want)
	}
	if s.asked[3].Default != "eu-west-1" {
		t.Errorf("the region was asked again with default %q, want the old answer eu-west-1", s.asked[3].Default)
	}
}

// TestShiftTabGoesBack: Shift+Tab on a first question after an answer
// sends ErrBack; on the very first question, or on a step's question, it
// does nothing.
func TestShiftTabGoesBack(t *testing.T) {
	m := testModel(t, 80, 24)
	first := make(chan promptReply, 1)
	feed(m, promptMsg{kind: promptInput, q: steps.Question{ID: "domain", Title: "Domain"}, reply: first}, shiftTab())
	if m.prompt == nil {
		t.Fatal("Shift+Tab on the first question went back")
	}
	feed(m, keyRunes("shop.example"), enterKey())
	<-first
	second := make(chan promptReply, 1)
	feed(m, promptMsg{kind: promptChoose, q: steps.Question{ID: "region", Title: "Region"}, options: []steps.Option{{Value: "us-east-1"}}, reply: second})
	if v := view(m); !strings.Contains(v, "shift+tab back") {
		t.Errorf("the help line does not offer Shift+Tab:\n%s", v)
	}
	feed(m, shiftTab())
	if r := <-second; !r.back {
		t.Fatalf("Shift+Tab replied %+v, want back", r)
	}
}

func shiftTab() tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyShiftTab} }
func enterKey() tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyEnter} }
