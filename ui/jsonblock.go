package ui

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// jsonNode is a JSON value with its members in the document's order.
type jsonNode struct {
	object, array bool
	keys          []string // object members' keys, encoded
	members       []*jsonNode
	scalar        string // encoded, for a string, number, bool or null
}

// parseJSONDoc reads a JSON object or array (an IAM policy document);
// ok is false for anything else, which is shown as text.
func parseJSONDoc(s string) (*jsonNode, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	n, err := readJSON(dec)
	if err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // more than one value
	}
	return n, true
}

func readJSON(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return &jsonNode{scalar: encodeJSON(tok)}, nil
	}
	n := &jsonNode{object: d == '{', array: d == '['}
	for dec.More() {
		if n.object {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, encodeJSON(k))
		}
		m, err := readJSON(dec)
		if err != nil {
			return nil, err
		}
		n.members = append(n.members, m)
	}
	_, err = dec.Token() // the closing delimiter
	return n, err
}

// encodeJSON writes a scalar back as JSON, without escaping <, > and &
// (json.Marshal would), so it reads as the document does.
func encodeJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a token the decoder gave always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// inline is the value on one line, with a space after each colon and
// comma.
func (n *jsonNode) inline() string {
	if !n.object && !n.array {
		return n.scalar
	}
	parts := make([]string, len(n.members))
	for i, m := range n.members {
		parts[i] = m.inline()
		if n.object {
			parts[i] = n.keys[i] + ": " + parts[i]
		}
	}
	if n.object {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// jsonLines lays a JSON document out in lines of at most w cells, the way
// an operator reads a policy: an object or array stays on one line where
// it fits, else each member goes on a line of its own, two spaces in; a
// member whose value does not fit after its key puts the value on the
// next line. A token is never broken: a line still too wide (a long ARN
// deep in the document) moves left until it fits, and a token wider than
// w stands alone at the left edge (the only line a screen then wraps).
// w <= 0 means no limit: the document on one line.
func jsonLines(n *jsonNode, w int) []string {
	if w <= 0 {
		return []string{n.inline()}
	}
	return n.layout("", 0, "", w)
}

func (n *jsonNode) layout(prefix string, indent int, suffix string, w int) []string {
	line := strings.Repeat(" ", indent) + prefix + n.inline() + suffix
	if ansi.StringWidth(line) <= w {
		return []string{line}
	}
	if !n.object && !n.array {
		if prefix != "" {
			return append([]string{strings.Repeat(" ", indent) + strings.TrimSuffix(prefix, " ")}, n.layout("", indent+2, suffix, w)...)
		}
		text := n.scalar + suffix
		return []string{strings.Repeat(" ", max(0, min(indent, w-ansi.StringWidth(text)))) + text}
	}
	open, close := "[", "]"
	if n.object {
		open, close = "{", "}"
	}
	out := []string{outdent(strings.Repeat(" ", indent)+prefix+open, w)}
	in := indent + 2
	if n.array {
		// The elements of a list (the ARNs of Resource) share one
		// column: moved left together when one does not fit.
		for i, m := range n.members {
			if !m.object && !m.array {
				in = min(in, max(0, w-ansi.StringWidth(m.scalar+comma(i, len(n.members)))))
			}
		}
	}
	for i, m := range n.members {
		p := ""
		if n.object {
			p = n.keys[i] + ": "
		}
		out = append(out, m.layout(p, in, comma(i, len(n.members)), w)...)
	}
	return append(out, outdent(strings.Repeat(" ", indent)+close+suffix, w))
}

// outdent moves a line left, removing its leading spaces, until it fits w
// cells or has none left.
func outdent(l string, w int) string {
	for ansi.StringWidth(l) > w && strings.HasPrefix(l, " ") {
		l = l[1:]
	}
	return l
}

// comma is what follows member i of n: a comma, but after the last.
func comma(i, n int) string {
	if i == n-1 {
		return ""
	}
	return ","
}

// widest is the width of the document's widest scalar with its comma: the
// least width it can be laid out in without breaking a token.
func (n *jsonNode) widest() int {
	w := ansi.StringWidth(n.scalar) + 1
	for i, m := range n.members {
		key := 0
		if n.object {
			key = ansi.StringWidth(n.keys[i]) + 2
		}
		w = max(w, key, m.widest())
	}
	return w
}
