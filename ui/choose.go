package ui

import (
	"strings"

	"github.com/sesame-tool/sesame/steps"
)

// regionNames are the AWS regions' names as the console shows them, so a
// region list reads "eu-west-1  Europe (Ireland)".
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
	"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
	"ca-central-1": "Canada (Central)", "ca-west-1": "Canada West (Calgary)",
	"sa-east-1": "South America (São Paulo)",
	"eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)", "eu-west-3": "Europe (Paris)",
	"eu-central-1": "Europe (Frankfurt)", "eu-central-2": "Europe (Zurich)", "eu-north-1": "Europe (Stockholm)",
	"eu-south-1": "Europe (Milan)", "eu-south-2": "Europe (Spain)",
	"ap-south-1": "Asia Pacific (Mumbai)", "ap-south-2": "Asia Pacific (Hyderabad)",
	"ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)", "ap-northeast-3": "Asia Pacific (Osaka)",
	"ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
	"ap-southeast-3": "Asia Pacific (Jakarta)", "ap-southeast-5": "Asia Pacific (Malaysia)",
	"me-central-1": "Middle East (UAE)", "me-south-1": "Middle East (Bahrain)",
	"il-central-1": "Israel (Tel Aviv)", "af-south-1": "Africa (Cape Town)",
	"us-gov-west-1": "AWS GovCloud (US-West)", "us-gov-east-1": "AWS GovCloud (US-East)",
}

// filterMin is the length from which a list filters as the operator
// types: shorter lists keep j, k and q as keys.
const filterMin = 10

// filters says whether the list on screen filters as the operator types.
func (m *model) filters() bool {
	return m.prompt != nil && m.prompt.kind == promptChoose && len(m.prompt.options) >= filterMin
}

// optionText is what the filter matches: the value, the label, the
// region's name and the detail.
func optionText(o steps.Option) string {
	return strings.ToLower(o.Value + " " + o.Label + " " + regionNames[o.Value] + " " + o.Detail)
}

// visible are the indexes of the options the filter lets through, in order.
func (m *model) visible() []int {
	var out []int
	f := strings.ToLower(strings.TrimSpace(m.filter))
	for i, o := range m.prompt.options {
		if f == "" || strings.Contains(optionText(o), f) {
			out = append(out, i)
		}
	}
	return out
}

// moveChoice moves the choice by d among the visible options.
func (m *model) moveChoice(d int) {
	vis := m.visible()
	if len(vis) == 0 {
		return
	}
	at := 0
	for i, v := range vis {
		if v == m.choice {
			at = i
		}
	}
	m.choice = vis[max(0, min(len(vis)-1, at+d))]
}

// setFilter changes the filter and puts the choice on the first option it
// lets through, unless the current one still matches.
func (m *model) setFilter(f string) {
	m.filter = f
	vis := m.visible()
	for _, v := range vis {
		if v == m.choice {
			return
		}
	}
	if len(vis) > 0 {
		m.choice = vis[0]
	}
}

// optionLabel is an option as the list shows it: a region's name after
// its code.
func optionLabel(o steps.Option) (label, rest string) {
	label = orDefault(o.Label, o.Value)
	if name := regionNames[o.Value]; name != "" && label == o.Value {
		rest = "  " + pad("", max(0, 14-len(label))) + name
	}
	return label, rest
}
