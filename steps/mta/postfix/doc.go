// Package postfix knows how Postfix relays through SES: the main.cf
// settings and their snippet, the sasl_passwd map (sesame's entry merged
// into the operator's file), the apply-postfix.sh script, the files sesame
// refuses to replace, and --apply-postfix, which configures a local
// Postfix with postconf and postmap. Target is its mta.Target. It never
// imports package steps.
package postfix
