package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/sesame-tool/sesame/steps"
)

// planRow is one plan change as table cells.
type planRow struct {
	action steps.Action
	name   string
	kind   string
	value  string
	// values are the value's lines, when it has several.
	values []string
	note   string
}

func planRows(p *steps.Plan) []planRow {
	rows := make([]planRow, 0, len(p.Changes))
	for _, c := range p.Changes {
		var values []string
		if v := strings.TrimSpace(c.Value); strings.Contains(v, "\n") {
			values = strings.Split(v, "\n")
		}
		rows = append(rows, planRow{action: c.Action, name: c.Name, kind: planKind(c), value: planValue(c), values: values, note: c.Note})
	}
	return rows
}

// planTable renders a plan as NAME TYPE VALUE ACTION in width cells (0 =
// as wide as the values need: the plain reporter, whose output operators
// copy from). Cells that do not fit are truncated with an ellipsis, never
// wrapped. Notes of merges and conflicts follow their row, wrapped.
func planTable(p *steps.Plan, width int, st *Styles) []string {
	rows := planRows(p)
	if len(rows) == 0 {
		return nil
	}
	nameW, kindW, valueW, actW := len("NAME"), len("TYPE"), len("VALUE"), len("ACTION")
	for _, r := range rows {
		nameW = max(nameW, ansi.StringWidth(r.name))
		kindW = max(kindW, ansi.StringWidth(r.kind))
		valueW = max(valueW, ansi.StringWidth(r.value))
		actW = max(actW, len(r.action))
	}
	if width > 0 {
		// The ACTION and TYPE columns keep their width; NAME and VALUE
		// share what is left, NAME at most 40%, both at least 6.
		kindW = min(kindW, 12)
		rest := width - kindW - actW - 3*2
		if nameW+valueW > rest {
			nameW = max(6, min(nameW, rest*2/5))
			valueW = max(6, rest-nameW)
		}
	}
	row := func(name, kind, value, action string) string {
		return fit(name, nameW) + "  " + fit(kind, kindW) + "  " + fit(value, valueW) + "  " + action
	}
	lines := []string{st.Dim.Render(strings.TrimRight(row("NAME", "TYPE", "VALUE", "ACTION"), " "))}
	for _, r := range rows {
		lines = append(lines, row(r.name, r.kind, r.value, st.action(r.action).Render(string(r.action))))
		if width > 0 && ansi.StringWidth(r.value) > valueW && len(r.values) > 1 {
			// A value of several lines (a TXT set, the production-access
			// request) that the cell cuts is listed in full below its row,
			// so what is approved can be read.
			for _, v := range r.values {
				for i, l := range wrap(v, width-6) {
					prefix := "    "
					if i > 0 {
						prefix = "      "
					}
					lines = append(lines, prefix+l)
				}
			}
		}
		if r.note != "" {
			noteW := 0
			if width > 0 {
				noteW = width - 4
			}
			for _, l := range wrapOrKeep(r.note, noteW) {
				lines = append(lines, "    "+st.action(r.action).Render(l))
			}
		}
	}
	return lines
}

// wrapOrKeep wraps when a width is given and keeps the line otherwise.
func wrapOrKeep(s string, w int) []string {
	if w <= 0 {
		return []string{s}
	}
	return wrap(s, w)
}

// recordTable renders DNS records (manual records) as NAME TYPE VALUE.
func recordTable(recs []steps.DNSRecord, width int, st *Styles) []string {
	p := &steps.Plan{}
	for _, r := range recs {
		p.Changes = append(p.Changes, steps.Change{Action: steps.Action(strings.ToLower(r.Purpose)), Resource: "dns-record", Name: r.Name, Type: r.Type, Value: strings.Join(r.Values, "\n")})
	}
	lines := planTable(p, width, st)
	if len(lines) > 0 {
		lines[0] = st.Dim.Render(strings.Replace(ansi.Strip(lines[0]), "ACTION", "PURPOSE", 1))
	}
	return lines
}
