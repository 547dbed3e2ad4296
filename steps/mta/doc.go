// Package mta holds what any mail transfer agent needs to relay through
// SES, whatever its configuration language: the SMTP credentials (host,
// port, user, password), the password as a value that never prints, and
// Target, the interface through which the wizard reads and writes the
// credentials of the MTA it configures. The Postfix Target, its rendering
// and installation live in mta/postfix. It never imports package steps.
package mta
