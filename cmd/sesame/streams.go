package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// ioStreams are the program's standard streams and what they are attached
// to. Tests build one over buffers.
type ioStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and OutTTY say whether stdin and stdout are terminals.
	InTTY, OutTTY bool
	// InFd is stdin's file descriptor when it is a terminal (for reading
	// a secret without echo); -1 otherwise.
	InFd int
}

// systemStreams are the process's own streams.
func systemStreams() *ioStreams {
	s := &ioStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, InFd: -1}
	s.InTTY = term.IsTerminal(int(os.Stdin.Fd()))
	s.OutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	if s.InTTY {
		s.InFd = int(os.Stdin.Fd())
	}
	return s
}
