package awssim

import (
	"fmt"
	"strings"
)

// Route 53's name format: names are stored lower case with a trailing dot;
// on the wire, characters other than a-z, 0-9, '-', '_' and '.' travel as
// \ddd octal escapes ("*" is "\052"). Lists are ordered by the name with
// its labels reversed ("com.example.www.").

// decodeName turns a name from a request into its stored form: \ddd
// escapes decoded, lower case, a trailing dot.
func decodeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' && i+3 < len(name) && isOctal(name[i+1]) && isOctal(name[i+2]) && isOctal(name[i+3]) {
			b.WriteByte((name[i+1]-'0')<<6 | (name[i+2]-'0')<<3 | (name[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(c)
	}
	return fqdn(b.String())
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// encodeName renders a stored name as Route 53 returns it.
func encodeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03o", c)
		}
	}
	return b.String()
}

// validName reports whether a decoded name is a DNS name Route 53 takes:
// labels of 1 to 63 octets, 255 in all.
func validName(name string) bool {
	if len(name) > 255 || name == "." {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

// reversedName is the sort key Route 53 lists by: "www.example.com." gives
// "com.example.www.".
func reversedName(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".") + "."
}

// inZone reports whether name is the zone's apex or below it.
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}
