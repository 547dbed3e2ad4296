package postfix

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sesame-tool/sesame/steps/mta"
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
	return removeSASL(data, func(e mta.Credentials) bool { return slices.Contains(users, e.Username) })
}

// removeSASL returns data without the entries (and their continuation
// lines) drop says are sesame's; every other line stays byte for byte.
// removed and empty are as RemoveSASLEntries says.
func removeSASL(data []byte, drop func(mta.Credentials) bool) (out []byte, removed int, empty bool) {
	var b strings.Builder
	dropping := false
	empty = true
	for _, l := range splitSASLPasswd(data) {
		switch {
		case l.cont && dropping:
			continue
		case l.key != "":
			dropping = false
			if e, ok := parseSASLEntry(l.text); ok && drop(e) {
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

// RestoreMainCF puts main.cf back from backup, the copy Install.Apply
// took before changing it: atomically (a temporary file in the same
// directory renamed over it), with the backup's mode and main.cf's owner,
// and without touching the directory (Postfix's daemons must still read
// it). The backup stays.
func RestoreMainCF(backup, mainCF string) error {
	data, err := os.ReadFile(backup)
	if err != nil {
		return fmt.Errorf("read the backup %s: %w", backup, err)
	}
	bst, err := os.Stat(backup)
	if err != nil {
		return fmt.Errorf("read the backup %s: %w", backup, err)
	}
	mst, _ := os.Stat(mainCF) // nil when main.cf is gone: the owner is ours
	if err := writeAtomic(mainCF, data, bst.Mode().Perm(), mst); err != nil {
		return fmt.Errorf("restore %s: %w", mainCF, err)
	}
	return nil
}
