package main

import (
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run parses args, runs the command and returns the process exit code.
func run(args []string, s *ioStreams, getenv func(string) string) int {
	root := &cobra.Command{Use: "sesame", Version: version, SilenceUsage: true}
	root.SetArgs(args)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	if err := root.Execute(); err != nil {
		return exitFailure
	}
	return exitOK
}
