package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame-tool/sesame/steps/awsapi"
)

// recipientPoll is how often the relay step asks SES whether the test
// recipient has opened its verification link; defaultRecipientWait is how
// long it waits at most when --timeout does not say.
const (
	recipientPoll        = 3 * time.Second
	defaultRecipientWait = 15 * time.Minute
)

// awaitTestRecipient makes the sandbox test send wait for its recipient.
// In the SES sandbox mail goes only to verified identities (Amazon SES
// Developer Guide, "Request production access (Moving out of the SES
// sandbox)"), and an address identity is verified only when its owner
// opens the link SES mailed (Developer Guide, "Creating and verifying
// identities in Amazon SES", "Verifying an email address identity"): on a
// new account's first run, --verify-recipient was created seconds ago.
// Sending then would only earn "554 Email address is not verified", so the
// step waits for the link, saying so, within --timeout (15 minutes by
// default); with --no-wait, or when the time is up, it stops as pending
// (exit 3) with the next action. An address with no identity of its own
// is left to the send, whose 554 is explained in words.
func awaitTestRecipient(ctx context.Context, env *Env, step, to string) error {
	if rep := env.Facts.Sandbox; rep == nil || rep.ProductionAccess || isMailboxSimulator(to) {
		return nil
	}
	limit := recipientWait(env)
	start := env.Clock.Now()
	for told := false; ; told = true {
		out, err := env.Clients.SES.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(to)})
		var nf *sestypes.NotFoundException
		switch {
		case errors.As(err, &nf):
			return nil
		case err != nil:
			return awsapi.Explain("ses:GetEmailIdentity", to, err)
		case out.VerifiedForSendingStatus:
			return nil
		}
		pending := fmt.Sprintf("the test message waits for %s to be verified (the sandbox sends only to verified addresses): open the link SES mailed to it", to)
		if env.Options.NoWait || env.Clock.Now().Sub(start)+recipientPoll > limit {
			return &PendingError{Step: step, Detail: pending + ", then run sesame again: the relay files are written, and it sends the test then"}
		}
		if !told {
			env.Info(step, "%s (waiting up to %s; --no-wait stops here instead)", pending, limit.Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-env.Clock.After(recipientPoll):
		}
	}
}

// isMailboxSimulator reports whether addr is at SES's mailbox simulator,
// which accepts mail from any account, sandbox or not, with no
// verification (Amazon SES Developer Guide, "Using the mailbox simulator").
func isMailboxSimulator(addr string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(addr)), "@simulator.amazonses.com")
}

// recipientWait is how long the relay step waits for the test recipient's
// verification: --timeout, else defaultRecipientWait.
func recipientWait(env *Env) time.Duration {
	if t := env.Options.Timeout; t > 0 {
		return t
	}
	return defaultRecipientWait
}
