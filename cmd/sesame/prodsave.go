package main

import (
	"context"
	"strings"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/state"
)

// productionToSave is what the state file keeps of the production-access
// request: nil until one of its questions was answered (or given by flag).
func productionToSave(pr steps.ProductionRequest) *state.ProductionAnswers {
	if pr.MailType == "" && pr.WebsiteURL == "" && pr.UseCase == "" && pr.Contacts == nil {
		return nil
	}
	return &state.ProductionAnswers{MailType: pr.MailType, WebsiteURL: pr.WebsiteURL, UseCase: pr.UseCase,
		ContactLanguage: pr.ContactLanguage, Contacts: pr.Contacts}
}

// mergeProduction fills what the flags left empty from the saved answers,
// so a request interrupted halfway does not ask them again.
func mergeProduction(dst *steps.ProductionRequest, saved *state.ProductionAnswers) {
	if saved == nil {
		return
	}
	if dst.MailType == "" {
		dst.MailType = saved.MailType
	}
	if dst.WebsiteURL == "" {
		dst.WebsiteURL = saved.WebsiteURL
	}
	if dst.UseCase == "" {
		dst.UseCase = saved.UseCase
	}
	if dst.ContactLanguage == "" {
		dst.ContactLanguage = saved.ContactLanguage
	}
	if dst.Contacts == nil {
		dst.Contacts = saved.Contacts
	}
}

// savingPrompter saves each answer of the production-access request as it
// is given (Ctrl+C halfway keeps the answers already typed); every other
// question passes through. The answers go to the run's decisions, never
// to the operator's flags (Options).
type savingPrompter struct {
	steps.Prompter
	env *steps.Env
}

func (p savingPrompter) keep(id, v string) {
	if p.env.Decisions.Production == nil {
		pr := p.env.Production()
		p.env.Decisions.Production = &pr
	}
	pr := p.env.Decisions.Production
	switch id {
	case "mail-type":
		pr.MailType = v
	case "website-url":
		pr.WebsiteURL = strings.TrimSpace(v)
	case "use-case":
		pr.UseCase = strings.TrimSpace(v)
	case "contact-email":
		pr.Contacts = []string{}
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				pr.Contacts = append(pr.Contacts, f)
			}
		}
	default:
		return
	}
	_ = p.env.SaveState() // a failed save only means asking again next time
}

// Choose asks and keeps a production-request answer.
func (p savingPrompter) Choose(ctx context.Context, q steps.Question, options []steps.Option) (string, error) {
	v, err := p.Prompter.Choose(ctx, q, options)
	if err == nil {
		p.keep(q.ID, v)
	}
	return v, err
}

// Input asks and keeps a production-request answer.
func (p savingPrompter) Input(ctx context.Context, q steps.Question, validate func(string) error) (string, error) {
	v, err := p.Prompter.Input(ctx, q, validate)
	if err == nil {
		p.keep(q.ID, v)
	}
	return v, err
}
