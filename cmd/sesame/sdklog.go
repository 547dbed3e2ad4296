package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/logging"

	"github.com/sesame-tool/sesame/steps"
	"github.com/sesame-tool/sesame/steps/state"
)

// sdkLogger routes the AWS SDK's own log lines (a warning such as "falling
// back to IMDSv1" when no credentials are configured) into the run's
// events, said in words, so that nothing but the front end writes to the
// terminal: under the TUI a stray line on stderr would draw over the
// screen. Debug lines go to the --debug log, if there is one.
type sdkLogger struct {
	mu    sync.Mutex
	emit  func(steps.Event)
	debug io.Writer
}

// setEmit points the logger at the current run's events.
func (l *sdkLogger) setEmit(emit func(steps.Event)) {
	l.mu.Lock()
	l.emit = emit
	l.mu.Unlock()
}

// Logf implements logging.Logger.
func (l *sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	emit, debug := l.emit, l.debug
	l.mu.Unlock()
	if debug != nil {
		fmt.Fprintf(debug, "aws-sdk %s: %s\n", strings.ToLower(string(c)), msg)
	}
	if c != logging.Warn || emit == nil {
		return
	}
	emit(steps.Event{Kind: steps.EventWarning, Step: "account", Detail: sdkWarning(msg), Time: time.Now()})
}

// sdkWarning says an SDK warning in the operator's words.
func sdkWarning(msg string) string {
	if strings.Contains(msg, "IMDSv1") {
		return "no AWS credentials were found in the environment or ~/.aws, so the AWS SDK asked this machine's EC2 instance metadata service (IMDS), which did not answer a session token. Outside EC2 that means: no credentials (run `aws configure` or `aws sso login`, or try `sesame --demo`)."
	}
	return "the AWS SDK warns: " + msg
}

// debugLogPath is where --debug writes while the TUI owns the terminal.
func debugLogPath(stateDir string) string {
	return filepath.Join(stateDir, "debug.log")
}

// openDebugLog opens (appending) the --debug log, private to its owner.
func openDebugLog(path string) (*os.File, error) {
	if err := state.EnsurePrivateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the --debug log: %w", err)
	}
	fmt.Fprintf(f, "--- sesame %s, %s\n", version, time.Now().UTC().Format(time.RFC3339))
	return f, nil
}
