// Package fakeclock is a clock for tests whose waits return at once: After
// moves the clock on by the duration asked for, so retry and polling loops
// run in no real time and their timestamps still add up.
package fakeclock

import (
	"sync"
	"time"
)

// Clock has the Now and After of steps.Clock and smtpcheck.Clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that starts at start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After moves the clock on by d and returns a channel that already holds
// the new time.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}
