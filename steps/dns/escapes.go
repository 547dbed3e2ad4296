package dns

import (
	"strconv"
	"strings"
)

// unescapeDigits decodes DNS presentation escapes: \ddd, three digits in
// base (8 for Route 53, 10 for RFC 1035 as miekg/dns writes it), is that
// byte; \X is X. A \ddd that is not a byte value is read as \d then "dd".
func unescapeDigits(s string, base int) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], base, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

// decodeEscapes decodes Route 53's \ddd (three octal digits, as Route 53
// documents for names and values) and \X escapes.
func decodeEscapes(s string) string { return unescapeDigits(s, 8) }

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
