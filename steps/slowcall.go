package steps

import "time"

// SlowCall is published (as EventData) when an AWS call has been waiting
// for its answer a while, and again with Done when it ends, so a front end
// can say what the run waits for: "waiting for SESv2 CreateEmailIdentity".
type SlowCall struct {
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	Started   time.Time `json:"started"`
	Done      bool      `json:"done,omitempty"`
}
