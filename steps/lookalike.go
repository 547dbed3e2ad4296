package steps

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// Lookalike says why a domain could pass for another name, the way
// browsers decide to show a name in punycode instead of its letters, or
// "" when nothing is suspicious. domain is NormalizeDomain's ASCII form.
//
// The rule, per label, after Unicode TR 39's "moderately restrictive"
// level (the one Chromium and Firefox build on):
//
//   - a label may use one script (Common and Inherited characters, such as
//     digits, the hyphen and combining marks, belong to every script);
//   - or Latin with Han, Hiragana and Katakana (Japanese), Latin with Han
//     and Bopomofo (Chinese), Latin with Han and Hangul (Korean);
//   - or Latin with any one other script except Cyrillic and Greek, whose
//     letters are the ones that look like Latin letters.
//
// Anything else mixes scripts ("exаmple" with a Cyrillic а). A label in one
// script is still a look-alike when it is written entirely in Cyrillic or
// Greek letters that look like Latin ones ("аррӏе") while the top-level
// domain is not in that script, as Chromium's whole-script check does.
func Lookalike(domain string) string {
	labels := strings.Split(domain, ".")
	tld := ""
	if len(labels) > 0 {
		tld, _ = idnaProfile.ToUnicode(labels[len(labels)-1])
	}
	for _, l := range labels {
		if !strings.HasPrefix(l, "xn--") {
			continue // ASCII: Latin only
		}
		u, err := idnaProfile.ToUnicode(l)
		if err != nil {
			continue // NormalizeDomain refuses it
		}
		if why := labelLookalike(u, tld); why != "" {
			return fmt.Sprintf("the label %q (%s) %s", u, l, why)
		}
	}
	return ""
}

// labelLookalike applies Lookalike's rule to one Unicode label.
func labelLookalike(u, tld string) string {
	set := map[string]bool{}
	for _, r := range u {
		if s := scriptOf(r); s != "" {
			set[s] = true
		}
	}
	names := slices.Sorted(maps.Keys(set))
	switch {
	case len(set) == 0:
		return ""
	case len(set) == 1:
		s := names[0]
		if confusables := latinLookalikes[s]; confusables != "" && !scriptOfLabel(tld, s) && allIn(u, confusables) {
			return fmt.Sprintf("is written entirely in %s letters that look like Latin ones", s)
		}
		return ""
	case within(set, "Latin", "Han", "Hiragana", "Katakana"), within(set, "Latin", "Han", "Bopomofo"), within(set, "Latin", "Han", "Hangul"):
		return ""
	case len(set) == 2 && set["Latin"] && !set["Cyrillic"] && !set["Greek"]:
		return ""
	}
	return "mixes " + strings.Join(names, " and ") + " letters, as look-alikes of other names do"
}

// latinLookalikes are, per script, the lower-case letters that pass for
// Latin ones in common fonts (after Chromium's IDN spoof checker lists).
var latinLookalikes = map[string]string{
	"Cyrillic": "аысԁеԍһіюјӏорԛѕԝхуъьҽпгѵѡ",
	"Greek":    "αικνορτυχϲ",
}

// scriptOf names r's script, or "" for Common and Inherited characters
// (digits, the hyphen, combining marks), which go with any script.
func scriptOf(r rune) string {
	if unicode.In(r, unicode.Common, unicode.Inherited) {
		return ""
	}
	for name, table := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

// scriptOfLabel says whether a label has a letter of the script.
func scriptOfLabel(label, script string) bool {
	for _, r := range label {
		if scriptOf(r) == script {
			return true
		}
	}
	return false
}

// within says whether every script in set is one of allowed.
func within(set map[string]bool, allowed ...string) bool {
	for s := range set {
		ok := false
		for _, a := range allowed {
			ok = ok || s == a
		}
		if !ok {
			return false
		}
	}
	return true
}

// allIn says whether every letter of u is one of the runes in chars
// (digits and hyphens are ignored).
func allIn(u, chars string) bool {
	for _, r := range u {
		if scriptOf(r) != "" && !strings.ContainsRune(chars, r) {
			return false
		}
	}
	return true
}

// UnicodeDomain is domain (NormalizeDomain's ASCII form) in its own
// letters, for showing next to the punycode form; domain itself when it
// does not decode.
func UnicodeDomain(domain string) string {
	u, err := idnaProfile.ToUnicode(domain)
	if err != nil {
		return domain
	}
	return u
}
