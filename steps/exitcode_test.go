package steps

import (
	"context"
	"errors"
	"testing"
)

// ExitCode maps each kind of run error to its documented exit code.
func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{&InputError{Field: "domain", Flag: "--domain", Msg: "required"}, 2},
		{ErrNeedsApproval, 2},
		{&PendingError{Step: "verification", Detail: "pending"}, 3},
		{ErrDeclined, 3},
		{context.Canceled, 130},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
