package steps

import (
	"fmt"
	"time"
)

// EventKind says what happened.
type EventKind int

// The kinds of events the Runner and the steps report.
const (
	// EventStepStarted: the runner began a step (Check is running).
	EventStepStarted EventKind = iota
	// EventStepChecked: Check returned; Status and Detail say what it found.
	EventStepChecked
	// EventPlan: Plan returned; Plan holds it.
	EventPlan
	// EventApplying: Apply began.
	EventApplying
	// EventStepFinished: the step ended in Status, with Detail.
	EventStepFinished
	// EventInfo: a line of information for a step.
	EventInfo
	// EventWarning: a warning for a step; it does not stop the run.
	EventWarning
	// EventRetrying: an AWS call failed transiently and is retried;
	// Attempt/MaxAttempts and Detail say which and why.
	EventRetrying
	// EventData: step-specific data in Data (*Credentials,
	// *VerificationProgress, *SandboxReport, *MXReport, *dns.Manual,
	// *RelayReport, *AccountInfo).
	EventData
)

// Event is one thing a front end may show.
type Event struct {
	Kind   EventKind
	Step   string
	Title  string
	Status Status
	Detail string
	Plan   *Plan
	Data   any
	Err    error
	// Attempt and MaxAttempts are set on EventRetrying.
	Attempt, MaxAttempts int
	Time                 time.Time
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
