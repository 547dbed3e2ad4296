package dns

import (
	"fmt"
	"strconv"
	"strings"
)

// TXTStrings returns the character-strings a Route 53 TXT value holds, in
// wire form: `"ab" "c\"d"` is ["ab", `c"d`]. Two values are the same
// record when their strings are. A value without quotes is one string.
func TXTStrings(v string) []string {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, `"`) {
		return []string{decodeEscapes(v)}
	}
	var out []string
	var b strings.Builder
	in := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			if in {
				out = append(out, b.String())
				b.Reset()
			}
			in = !in
		case !in:
			// whitespace between strings
		case c == '\\' && i+3 < len(v) && isOctal(v[i+1]) && isOctal(v[i+2]) && isOctal(v[i+3]):
			n, _ := strconv.ParseUint(v[i+1:i+4], 8, 8)
			b.WriteByte(byte(n))
			i += 3
		case c == '\\' && i+1 < len(v):
			b.WriteByte(v[i+1])
			i++
		default:
			b.WriteByte(c)
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// TXTUnquote turns a Route 53 TXT value (one or more quoted strings, with
// \" \\ and \ddd escapes) into the text it carries, the strings joined. A
// value without quotes is returned as it is, escapes decoded.
func TXTUnquote(v string) string { return strings.Join(TXTStrings(v), "") }

// TXTQuote turns text into a Route 53 TXT value: quoted strings of at most
// 255 bytes each, separated by spaces, with " and \ escaped and bytes
// outside printable ASCII as \ddd. TXTUnquote
// inverts it.
func TXTQuote(s string) string {
	if s == "" {
		return `""`
	}
	var parts []string
	for len(s) > 0 {
		n := min(txtChunkSize, len(s))
		chunk := s[:n]
		s = s[n:]
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(chunk); i++ {
			switch c := chunk[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				// Route 53 wants octal escapes for these bytes.
				fmt.Fprintf(&b, "\\%03o", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " ")
}
