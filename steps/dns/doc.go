// Package dns knows the DNS side of sending through SES, independent of
// any DNS provider: the records a domain needs (DKIM CNAMEs, MAIL FROM MX
// and SPF, DMARC), the planner that decides, against the record sets a
// zone holds, to create, leave, merge or stop on a conflict, DNS names and
// presentation escapes, TXT quoting, the BIND and JSON rendering of
// records for an operator whose DNS is elsewhere, the resolver that looks
// records up in public DNS and the visibility judgement built on it, and
// the Provider interface a hosted-DNS service (dns/route53) implements.
//
// It never imports package steps: the wizard maps its results into its own
// types.
package dns
