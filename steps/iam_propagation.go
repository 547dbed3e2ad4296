package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-tool/sesame/steps/awsapi"
)

// IAM is eventually consistent (IAM User Guide, "Troubleshoot IAM",
// section "Changes that I make are not always immediately visible"): a
// call right after CreateUser can reach a part of IAM that does not know
// the user yet and answer NoSuchEntity. For a user this run created,
// sesame retries PutUserPolicy and CreateAccessKey through that, within a
// bounded window counted from the CreateUser answer, showing each retry.
// NoSuchEntity means IAM did nothing, so retrying cannot make a second key.
const (
	// IAMPropagationWindow bounds the retries after CreateUser.
	IAMPropagationWindow = 30 * time.Second
	// iamPropagationInterval is the pause between them.
	iamPropagationInterval = 2 * time.Second
)

// whileUserPropagates runs call, and again while it answers NoSuchEntity
// for a user this run created at st.createdAt, until IAMPropagationWindow
// has passed since then. It returns call's last error, unexplained.
func whileUserPropagates(ctx context.Context, env *Env, st *userState, op string, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || st.createdAt.IsZero() || awsapi.ErrorCode(err) != "NoSuchEntity" {
			return err
		}
		if env.Clock.Now().Add(iamPropagationInterval).Sub(st.createdAt) > IAMPropagationWindow {
			env.Warn("smtp-user", "IAM still does not know the new user %s %s after creating it (%s answered NoSuchEntity): IAM sometimes takes longer; run sesame again, it goes on with the user it made", st.name, IAMPropagationWindow, op)
			return err
		}
		env.Emit(Event{Kind: EventRetrying, Step: "smtp-user", Attempt: attempt + 1, MaxAttempts: int(IAMPropagationWindow/iamPropagationInterval) + 1,
			Detail: fmt.Sprintf("IAM does not know the new user %s yet (%s answered NoSuchEntity): a new user takes seconds to reach all of IAM; retrying for up to %s after its creation", st.name, op, IAMPropagationWindow),
			Time:   env.Clock.Now()})
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-env.Clock.After(iamPropagationInterval):
		}
	}
}
