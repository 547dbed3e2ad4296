package postfix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// Check runs postfix check and returns what it printed. Postfix prints its
// complaints to stderr only when stderr is a terminal (otherwise they go
// to the log alone), so the command runs on a pseudo-terminal sesame reads:
// the reason reaches the operator whatever sesame's own output is. A
// failure is an error holding that reason.
func (p Install) Check(ctx context.Context) (string, error) {
	path, err := p.tool("postfix")
	if err != nil {
		return "", err
	}
	out, err := runOnPTY(ctx, path, "-c", p.dir(), "check")
	out = strings.TrimSpace(strings.ReplaceAll(out, "\r\n", "\n"))
	if err != nil {
		if out == "" {
			out = "(it printed nothing; see the mail log)"
		}
		return out, fmt.Errorf("postfix check: %w: %s", err, out)
	}
	return out, nil
}

// runOnPTY runs a command with stdout and stderr on a new pseudo-terminal
// and returns everything written there. Without a pty (a container without
// /dev/ptmx) it runs with pipes instead.
func runOnPTY(ctx context.Context, name string, args ...string) (string, error) {
	master, slave, err := openPTY()
	if err != nil {
		out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		return string(out), err
	}
	defer master.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = slave, slave
	if err := cmd.Start(); err != nil {
		slave.Close()
		return "", err
	}
	// The child holds its own copy; closing ours makes the read end at
	// the child's exit (EIO on Linux).
	slave.Close()
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&buf, master)
		close(done)
	}()
	werr := cmd.Wait()
	<-done
	return buf.String(), werr
}

// openPTY opens a pseudo-terminal pair: the master to read, the slave for
// the child.
func openPTY() (*os.File, *os.File, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("name the pseudo-terminal: %w", err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, errors.Join(errors.New("open the pseudo-terminal"), err)
	}
	return master, slave, nil
}
