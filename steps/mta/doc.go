// Package mta holds what any mail transfer agent needs to relay through
// SES, whatever its configuration language: the SMTP credentials (host,
// port, user, password) and the password as a value that never prints.
// The Postfix rendering and installation live in mta/postfix.
package mta
