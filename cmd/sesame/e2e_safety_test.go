package main

import "testing"

// safetyCase is one way sesame could damage what it did not make, or reach
// AWS with input it should have refused; run drives the built binary
// against sesame-sim (or a stand-in) and fails if the damage happens.
type safetyCase struct {
	name string
	run  func(t *testing.T)
}

// TestNeverDamage runs every safety case, one subtest each. The rows name
// what must never happen; each function says how it is provoked.
func TestNeverDamage(t *testing.T) {
	var cases []safetyCase
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}
