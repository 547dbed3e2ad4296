package dns

import (
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// ZoneCandidates returns the names a zone holding domain can have, longest
// first, down to the registrable domain (nobody has a zone for "com").
func ZoneCandidates(domain string) []string {
	stop, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		stop = domain
	}
	var out []string
	for n := domain; ; {
		out = append(out, n)
		if n == stop {
			return out
		}
		i := strings.IndexByte(n, '.')
		if i < 0 {
			return out
		}
		n = n[i+1:]
	}
}

// ZoneHolds reports whether a zone named zone holds the name domain.
func ZoneHolds(zone, domain string) bool {
	z, d := NormName(zone), NormName(domain)
	return d == z || strings.HasSuffix(d, "."+z)
}

// NormName is the comparison form of a DNS name: \ddd escapes decoded,
// lower case, one trailing dot.
func NormName(n string) string {
	n = strings.ToLower(decodeEscapes(strings.TrimSpace(n)))
	n = strings.TrimRight(n, ".")
	return n + "."
}

// ParentName is name without its first label ("a.b.c." gives "b.c."), ""
// for a name of one label.
func ParentName(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return ""
}

// NormMX is the comparison form of an MX value: "10 host." in lower case.
func NormMX(v string) string {
	f := strings.Fields(v)
	if len(f) != 2 {
		return strings.ToLower(strings.Join(f, " "))
	}
	pref, err := strconv.Atoi(f[0])
	if err != nil {
		return strings.ToLower(strings.Join(f, " "))
	}
	return strconv.Itoa(pref) + " " + NormName(f[1])
}
