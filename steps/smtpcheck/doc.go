// Package smtpcheck logs in to an SMTP server the way a relay will and,
// when asked, sends one test message: it takes a host:port, the TLS roots
// and the credentials (Login), retries a login a new access key may not
// pass yet (LoginTest), and puts SES's refusals in the operator's words
// (AuthError, ExplainSend).
//
// It is a leaf: it knows no wizard type and never imports package steps;
// the wizard's relay step builds a Login and calls it.
package smtpcheck
