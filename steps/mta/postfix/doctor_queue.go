package postfix

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// reasonClass is a kind of delivery failure SES or Postfix reports, with
// its cause in words.
type reasonClass struct {
	id, cause, fix string
	match          func(reason string) bool
}

func contains(subs ...string) func(string) bool {
	return func(r string) bool {
		l := strings.ToLower(r)
		for _, s := range subs {
			if strings.Contains(l, strings.ToLower(s)) {
				return true
			}
		}
		return false
	}
}

// reasonClasses, most specific first.
var reasonClasses = []reasonClass{
	{"530", "SES answered 530 Authentication required: Postfix did not log in, because the password map has no entry whose key is exactly the relayhost (or its .db is stale, or smtp_sasl_auth_enable is off); SES bounces such mail permanently",
		"make the sasl_passwd key exactly the relayhost, postmap it, and send the bounced mail again", contains("530 ", "authentication required")},
	{"535", "SES answered 535 Authentication Credentials Invalid: the password is wrong for this relay host (derived for another region, an old or deleted access key, or a stale .db)",
		"derive the password for the relay host's region (sesame smtp-password --region R) or create a new key with sesame, then postmap", contains("535 ", "credentials invalid")},
	{"554-not-verified", "SES answered 554 Email address is not verified: the sender (From or Return-Path) is not a verified identity in this region; local senders such as root@host.localdomain always fail this",
		"verify the domain in the relay host's region, and rewrite local senders to it (sesame --rewrite-local-senders ADDRESS)", contains("address is not verified", "identities failed the check")},
	{"554-not-authorized", "SES answered 554 not authorized: the SMTP user's IAM policy does not allow sending as this sender",
		"allow ses:SendRawEmail for the domain in the SMTP user's policy (run sesame again)", contains("not authorized", "is not authorized")},
	{"454", "SES answered 454: a temporary failure (throttling, or SES's authentication service); Postfix retries",
		"wait; if it lasts, check the sending quota (sesame status)", contains("454 ")},
	{"local-data-error", "Postfix could not read the password map (\"local data error\"): its .db is missing or unreadable",
		"postmap the sasl_passwd map", contains("local data error")},
	{"no-mechanism", "Postfix found no SASL mechanism to log in with (\"no mechanism available\"): the Cyrus SASL PLAIN/LOGIN plugin is missing, or smtp_sasl_security_options forbids plain text",
		"install libsasl2-modules (cyrus-sasl-plain on RHEL) and set smtp_sasl_security_options = noanonymous", contains("no mechanism available", "no worthy mechs")},
	{"tls", "TLS failed (\"TLS engine is unavailable\", a certificate that does not verify, or the wrong wrapper mode for the port): Postfix sends no password without TLS and defers the mail",
		"check smtp_tls_CAfile exists and smtp_tls_wrappermode matches the port (yes for 465/2465, no for 587/2587)",
		contains("tls", "ssl", "certificate", "initial server greeting")},
}

func classify(reason string) (reasonClass, bool) {
	for _, c := range reasonClasses {
		if c.match(reason) {
			return c, true
		}
	}
	return reasonClass{}, false
}

// delivery is one failed delivery attempt, from the queue or the log.
type delivery struct {
	queue, id, sender, reason string
}

// localSender reports whether a sender is a machine's own address that no
// SES identity covers: no domain, a single-label domain or .localdomain.
func localSender(s string) bool {
	_, domain, ok := strings.Cut(s, "@")
	return s != "" && (!ok || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".localdomain") || strings.HasSuffix(domain, ".local"))
}

// addDeliveryFindings groups failures by reason class and queue.
func addDeliveryFindings(source string, ds []delivery, sev func(class string) Severity, add func(Finding)) {
	type group struct {
		class   reasonClass
		queue   string
		ids     []string
		senders []string
		example string
	}
	var groups []*group
	for _, d := range ds {
		c, ok := classify(d.reason)
		if !ok {
			c = reasonClass{id: "other", cause: "delivery failed for another reason", fix: "read the reason below and the mail log"}
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.class.id == c.id && g.queue == d.queue })
		if i < 0 {
			groups = append(groups, &group{class: c, queue: d.queue, example: d.reason})
			i = len(groups) - 1
		}
		g := groups[i]
		if !slices.Contains(g.ids, d.id) {
			g.ids = append(g.ids, d.id)
		}
		if d.sender != "" && !slices.Contains(g.senders, d.sender) {
			g.senders = append(g.senders, d.sender)
		}
	}
	for _, g := range groups {
		add(Finding{ID: source + "-" + g.class.id, Severity: sev(g.class.id),
			Summary: fmt.Sprintf("%d message(s) %s (%s): %s; for example: %s", len(g.ids), g.queue, source, g.class.cause, g.example),
			Fix:     g.class.fix})
		if g.class.id == "554-not-verified" {
			var local []string
			for _, s := range g.senders {
				if localSender(s) {
					local = append(local, s)
				}
			}
			if len(local) > 0 {
				add(Finding{ID: "local-senders", Severity: SeverityWarning, Params: []string{"smtp_generic_maps"},
					Summary: fmt.Sprintf("local senders (%s) are refused by SES: no SES identity covers them", strings.Join(local, ", ")),
					Fix:     "rewrite them to an address of the verified domain: sesame doctor --fix --rewrite-local-senders postmaster@your-domain (smtp_generic_maps)"})
			}
		}
	}
}

// queueEntry is one line of postqueue -j.
type queueEntry struct {
	QueueName  string `json:"queue_name"`
	QueueID    string `json:"queue_id"`
	Sender     string `json:"sender"`
	Recipients []struct {
		Address     string `json:"address"`
		DelayReason string `json:"delay_reason"`
	} `json:"recipients"`
}

// parseQueue reads postqueue -j output: the messages with a delay reason.
func parseQueue(out string) []delivery {
	var ds []delivery
	for _, line := range strings.Split(out, "\n") {
		var e queueEntry
		if strings.TrimSpace(line) == "" || json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		for _, r := range e.Recipients {
			if r.DelayReason != "" {
				ds = append(ds, delivery{queue: e.QueueName, id: e.QueueID, sender: e.Sender, reason: r.DelayReason})
			}
		}
	}
	return ds
}

// checkQueue groups the queued messages' delay reasons. A queue that
// cannot be read (Postfix stopped) is said, not counted as a fault.
func (p Install) checkQueue(ctx context.Context, queueDir string, add func(Finding)) {
	// Without the showq socket Postfix is not running: postqueue would
	// wait a second, then fail.
	if st, err := os.Stat(filepath.Join(queueDir, "public", "showq")); err != nil || st.Mode()&os.ModeSocket == 0 {
		add(Finding{ID: "queue", Severity: SeverityOK, Summary: "Postfix is not running (no showq socket in " + queueDir + "), so the queue was not read"})
		return
	}
	out, err := p.run(ctx, "postqueue", "-j")
	if err != nil {
		add(Finding{ID: "queue", Severity: SeverityOK, Summary: "the mail queue could not be read (is Postfix running?): " + firstLine(err.Error())})
		return
	}
	ds := parseQueue(out)
	if len(ds) == 0 {
		add(Finding{ID: "queue", Severity: SeverityOK, Summary: "no message waits in the queue with a delivery problem"})
		return
	}
	addDeliveryFindings("queue", ds, func(class string) Severity {
		if class == "454" {
			return SeverityWarning
		}
		return SeverityBroken
	}, add)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

var (
	logStatus = regexp.MustCompile(`postfix[^:]*/(?:smtp|error|lmtp)\[\d+\]: ([0-9A-Za-z]+): to=<[^>]*>.* status=(deferred|bounced) \((.*)\)\s*$`)
	logFrom   = regexp.MustCompile(`: ([0-9A-Za-z]+): from=<([^>]*)>`)
	// masterLoaded is the master's line when Postfix starts or reloads.
	masterLoaded = regexp.MustCompile(`postfix[^:]*/master\[\d+\]: (?:daemon started|reload) `)
)

// logTail is at most the last max bytes of a file, from a line start.
func logTail(path string, max int64) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		if _, err := f.Seek(st.Size()-max, io.SeekStart); err != nil {
			return nil, err
		}
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	first := st.Size() > max
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// logTime reads a log line's time: RFC 3339 (rsyslog's and Postfix's
// newer format) or the classic "Jan _2 15:04:05" in this year.
func logTime(line string, now time.Time) (time.Time, bool) {
	if f, _, ok := strings.Cut(line, " "); ok {
		if t, err := time.Parse(time.RFC3339Nano, f); err == nil {
			return t, true
		}
	}
	if len(line) >= 15 {
		if t, err := time.ParseInLocation(time.Stamp, line[:15], time.Local); err == nil {
			t = t.AddDate(now.Year(), 0, 0)
			if t.After(now.Add(24 * time.Hour)) {
				t = t.AddDate(-1, 0, 0)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// checkLog groups the deferred and bounced deliveries in the mail log's
// last lines that came after the last change to the configuration
// (earlier ones are history a fix already answered).
func checkLog(dir string, cur map[string]string, o DoctorOptions, add func(Finding)) {
	files := o.LogFiles
	if files == nil {
		if f := cur["maillog_file"]; f != "" {
			files = append(files, f)
		}
		files = append(files, "/var/log/mail.log", "/var/log/maillog")
	}
	var since time.Time
	for _, f := range []string{"main.cf", "master.cf", SASLPasswdFile, SASLPasswdFile + ".db"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil && st.ModTime().After(since) {
			since = st.ModTime()
		}
	}
	for _, path := range files {
		lines, err := logTail(path, 256*1024)
		if err != nil {
			continue
		}
		senders := map[string]string{}
		var ds []delivery
		now := time.Now()
		// What Postfix did before its last start or reload ran an older
		// configuration: only what came after counts.
		for i := len(lines) - 1; i >= 0; i-- {
			if masterLoaded.MatchString(lines[i]) {
				lines = lines[i+1:]
				break
			}
		}
		for _, line := range lines {
			if m := logFrom.FindStringSubmatch(line); m != nil {
				senders[m[1]] = m[2]
				continue
			}
			m := logStatus.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if t, ok := logTime(line, now); ok && t.Before(since.Truncate(time.Second)) {
				continue
			}
			ds = append(ds, delivery{queue: m[2], id: m[1], sender: senders[m[1]], reason: m[3]})
		}
		if len(ds) == 0 {
			add(Finding{ID: "log", Severity: SeverityOK, Summary: "no deferred or bounced delivery in " + path + " since the configuration last changed"})
			return
		}
		addDeliveryFindings("log", ds, func(class string) Severity {
			return cmp.Or(map[string]Severity{"454": SeverityWarning}[class], SeverityBroken)
		}, add)
		return
	}
}
