package postfix

import (
	"slices"
	"strings"
)

// HasSesameMark reports whether a file's contents carry the "# Written by
// sesame" mark on its first line (its second after a "#!" line): a file
// at one of sesame's names without it is the operator's.
func HasSesameMark(data []byte) bool { return hasSesameMark(data) }

// RemoveSASLEntries returns data without sesame's entries: the entry
// lines (and their continuation lines) whose username is one of users,
// the access key ids sesame wrote. Every other line stays byte for byte.
// removed counts the entries taken out; empty is true when what remains
// holds no entry and no comment but sesame's own header, so the file can
// go.
func RemoveSASLEntries(data []byte, users []string) (out []byte, removed int, empty bool) {
	var b strings.Builder
	dropping := false
	empty = true
	for _, l := range splitSASLPasswd(data) {
		switch {
		case l.cont && dropping:
			continue
		case l.key != "":
			dropping = false
			if e, ok := parseSASLEntry(l.text); ok && slices.Contains(users, e.Username) {
				dropping = true
				removed++
				continue
			}
		case !l.cont:
			dropping = false
		}
		b.WriteString(l.text)
		if body := strings.TrimSpace(l.text); body != "" && l.text != saslHeader && !strings.HasPrefix(body, sesameMark) {
			empty = false
		}
	}
	return []byte(b.String()), removed, empty
}
