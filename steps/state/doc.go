// Package state knows what sesame saves and how it is saved safely: files
// written atomically (a reader sees the old file or the whole new one,
// never a part, and never a leftover temporary holding a password), and
// the directories they go in, created 0700 and never chmod'ed when they
// already exist. It never imports package steps.
package state
