// Package state knows what sesame saves and how it is saved safely.
//
// What is saved: one state file per setup (account, region, domain), a
// Saved holding the operator's Answers and the Record of what sesame made
// (ids, key intents, pending keys, the files it wrote), never a secret.
// The Store reads and writes those files, refusing any file at a state
// path that is not sesame's (a *ForeignError); a Lock keeps two sesame
// processes from working on one setup at once.
//
// How it is saved: files written atomically (a reader sees the old file
// or the whole new one, never a part, and never a leftover temporary
// holding a password), in directories created 0700 and never chmod'ed
// when they already exist.
//
// It knows no wizard, flag or exit code, and never imports package steps:
// steps maps a *ForeignError to its InputError naming --state-dir.
package state
