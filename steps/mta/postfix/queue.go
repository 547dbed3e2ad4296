package postfix

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// queued is one message of `postqueue -j`, the fields sesame reads.
type queued struct {
	Queue      string `json:"queue_name"`
	ID         string `json:"queue_id"`
	Recipients []struct {
		Address string `json:"address"`
		Reason  string `json:"delay_reason"`
	} `json:"recipients"`
}

// DeferredForAuth returns the queue ids of the messages Postfix holds
// because the relay refused its SMTP login (a 535, or SASL authentication
// failing): while any is queued, the old key may still be what some
// Postfix uses, so `sesame rotate` does not delete it yet.
func (p Install) DeferredForAuth(ctx context.Context) ([]string, error) {
	out, err := p.run(ctx, "postqueue", "-j")
	if err != nil {
		return nil, fmt.Errorf("read the Postfix queue: %w", err)
	}
	return deferredForAuth(out)
}

// deferredForAuth parses `postqueue -j` output (one JSON object a line).
func deferredForAuth(out string) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var m queued
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("read the Postfix queue: postqueue -j printed a line that is not JSON: %w", err)
		}
		for _, r := range m.Recipients {
			if authRefusal(r.Reason) {
				ids = append(ids, m.ID)
				break
			}
		}
	}
	return ids, sc.Err()
}

// authRefusal reports whether a delay reason is a refused SMTP login:
// SES answers "535 Authentication Credentials Invalid", and Postfix says
// "SASL authentication failed" around it.
func authRefusal(reason string) bool {
	r := strings.ToLower(reason)
	return strings.Contains(r, "authentication credentials invalid") || strings.Contains(r, "sasl authentication failed") ||
		strings.Contains(r, " 535 ") || strings.HasPrefix(r, "535 ")
}
