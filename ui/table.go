package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/dns"
)

// planRow is one plan change as table cells.
type planRow struct {
	action steps.Action
	name   string
	kind   string
	value  string
	// values are the value's lines, when it has several.
	values []string
	// doc is the value when it is a JSON document (an IAM policy): it is
	// laid out over lines fitted to the width, never cut inside a token.
	doc  *jsonNode
	note string
}

// docWidth is the width a JSON value is laid out for when the plan has no
// width to fit (a plain run with no terminal): an 80-column terminal's,
// less the block's indent.
const docWidth = 76

func planRows(p *steps.Plan) []planRow {
	rows := make([]planRow, 0, len(p.Changes))
	for _, c := range p.Changes {
		var values []string
		doc, isDoc := parseJSONDoc(c.Value)
		switch v := strings.TrimSpace(c.Value); {
		case isDoc:
			values = jsonLines(doc, docWidth)
		case strings.Contains(v, "\n"):
			values = strings.Split(v, "\n")
		}
		rows = append(rows, planRow{action: c.Action, name: c.Name, kind: planKind(c), value: planValue(c), values: values, doc: doc, note: c.Note})
	}
	return rows
}

// planTable renders a plan as NAME TYPE VALUE ACTION in width cells (0 =
// as wide as the values need: the plain reporter, whose output operators
// copy from). What is approved is never cut: a name or value wider than
// its column wraps inside its cell (at spaces where it can), and a value
// of several lines lists each line. Notes of merges and conflicts follow
// their row, wrapped.
func planTable(p *steps.Plan, width int, st *Styles) []string {
	rows := planRows(p)
	if len(rows) == 0 {
		return nil
	}
	nameW, kindW, valueW, actW := len("NAME"), len("TYPE"), len("VALUE"), len("ACTION")
	for _, r := range rows {
		nameW = max(nameW, ansi.StringWidth(r.name))
		kindW = max(kindW, ansi.StringWidth(r.kind))
		for _, v := range r.stackValues() {
			valueW = max(valueW, ansi.StringWidth(v))
		}
		actW = max(actW, len(r.action))
	}
	if width > 0 && nameW+kindW+valueW+actW+3*2 > width {
		return planStack(rows, width, kindW, actW, st)
	}
	row := func(name, kind, value, action string) string {
		return strings.TrimRight(pad(name, nameW)+"  "+pad(kind, kindW)+"  "+pad(value, valueW)+"  "+action, " ")
	}
	lines := []string{st.Dim.Render(row("NAME", "TYPE", "VALUE", "ACTION"))}
	for _, r := range rows {
		name, kind := cellLines(r.name, nameW), cellLines(r.kind, kindW)
		var value []string
		for _, v := range r.stackValues() {
			value = append(value, cellLines(v, valueW)...)
		}
		for i := range max(len(name), len(kind), len(value)) {
			at := func(l []string) string {
				if i < len(l) {
					return l[i]
				}
				return ""
			}
			action := ""
			if i == 0 {
				action = st.action(r.action).Render(string(r.action))
			}
			lines = append(lines, row(at(name), at(kind), at(value), action))
		}
		if r.doc != nil {
			lines = append(lines, r.docBlock(width)...)
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

// planStack renders a plan too wide for its table as one block per
// change: the action, the type and the full name on one line, each value
// on its own line below, so a name or a value is never cut and breaks
// only where it is wider than the screen itself.
func planStack(rows []planRow, width, kindW, actW int, st *Styles) []string {
	kindW = min(kindW, 12)
	indent := strings.Repeat(" ", actW+2+kindW+2)
	longest := 0
	for _, r := range rows {
		longest = max(longest, ansi.StringWidth(r.name))
		if r.doc != nil {
			continue // laid out below its name, in the width left
		}
		for _, v := range r.valueLines() {
			for _, word := range strings.Fields(v) {
				longest = max(longest, ansi.StringWidth(word))
			}
		}
	}
	if len(indent)+longest > width {
		// Too narrow for the columns: the name goes below the action,
		// indented as its values, so neither has to break.
		var lines []string
		for _, r := range rows {
			lines = append(lines, st.action(r.action).Render(string(r.action))+"  "+r.kind)
			lines = append(lines, "  "+r.name)
			if r.doc != nil {
				lines = append(lines, r.docBlock(width)...)
			}
			for _, v := range r.stackValues() {
				for _, l := range cellLines(v, width-4) {
					if l != "" {
						lines = append(lines, "    "+l)
					}
				}
			}
			if r.note != "" {
				for _, l := range wrap(r.note, width-4) {
					lines = append(lines, "    "+st.action(r.action).Render(l))
				}
			}
		}
		return lines
	}
	valueW := max(8, width-len(indent))
	lines := []string{st.Dim.Render(pad("ACTION", actW) + "  " + pad("TYPE", kindW) + "  NAME, then its value")}
	for _, r := range rows {
		head := st.action(r.action).Render(pad(string(r.action), actW)) + "  " + pad(r.kind, kindW) + "  "
		for i, n := range cellLines(r.name, max(8, width-len(indent))) {
			if i == 0 {
				lines = append(lines, head+n)
			} else {
				lines = append(lines, indent+n)
			}
		}
		if r.doc != nil {
			lines = append(lines, r.docBlock(width)...)
		}
		for _, v := range r.stackValues() {
			if v == "" {
				continue
			}
			for _, l := range cellLines(v, valueW) {
				lines = append(lines, indent+l)
			}
		}
		if r.note != "" {
			for _, l := range wrap(r.note, width-4) {
				lines = append(lines, "    "+st.action(r.action).Render(l))
			}
		}
	}
	return lines
}

// docBlock is a JSON value as a block under its row, four spaces in (less
// where its widest token needs the room), laid out in the width left, and
// in no more than an 80-column terminal's even on a wider one: a policy
// is read from the left edge and down, not squeezed into the value column.
func (r planRow) docBlock(width int) []string {
	if width <= 0 || width > docWidth+4 {
		width = docWidth + 4
	}
	in := 4
	if wd := r.doc.widest(); wd <= width {
		// A token wider than the screen breaks wherever the block is.
		in = min(in, width-wd)
	}
	var l []string
	for _, d := range jsonLines(r.doc, width-in) {
		l = append(l, strings.Repeat(" ", in)+d)
	}
	return l
}

// stackValues are the values a stacked row lists in its value column:
// none for a JSON document, which has its block.
func (r planRow) stackValues() []string {
	if r.doc != nil {
		return nil
	}
	return r.valueLines()
}

// valueLines are the row's value as it is listed: one line per value.
func (r planRow) valueLines() []string {
	if len(r.values) > 1 {
		return r.values
	}
	return []string{r.value}
}

// cellLines wraps s into a cell of w cells: at spaces where it can, and
// inside a word only when the word alone is wider than the cell.
func cellLines(s string, w int) []string {
	if w <= 0 || ansi.StringWidth(s) <= w {
		return []string{s}
	}
	return wordWrap(s, w)
}

// wrapOrKeep wraps when a width is given and keeps the line otherwise.
func wrapOrKeep(s string, w int) []string {
	if w <= 0 {
		return []string{s}
	}
	return wrap(s, w)
}

// recordBlock lists DNS records for an operator to copy: the type and the
// full name on one line, each value in full on its own line below, so no
// name or value is cut or broken inside (a line longer than the screen is
// the only one that wraps, and c copies them all).
func recordBlock(recs []dns.Desired, w int, st *Styles) []string {
	var l []string
	for _, r := range recs {
		head := st.Bold.Render(pad(r.Type, 5)) + " " + r.Name
		if purpose := "  " + r.Purpose; w <= 0 || ansi.StringWidth(head+purpose) <= w {
			head += st.Dim.Render(purpose)
		}
		l = append(l, head)
		for _, v := range r.Values {
			l = append(l, "      "+v)
		}
	}
	return l
}
