package dns

import (
	"slices"
	"strings"
)

// DMARCTags parses a DMARC record's tag=value list, tags lower case.
func DMARCTags(rec string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(rec, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := out[k]; !dup {
			out[k] = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return out
}

// DMARCStrength orders DMARC policies: none < quarantine < reject; -1 for
// anything else.
func DMARCStrength(p string) int {
	return slices.Index([]string{"none", "quarantine", "reject"}, p)
}

// IsDMARC reports whether a TXT text is a DMARC policy record.
func IsDMARC(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.HasPrefix(v, "v=dmarc1")
}
