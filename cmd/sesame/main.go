// Command sesame takes an operator from "an AWS account and a domain" to
// "Postfix relays mail through Amazon SES", in one resumable wizard.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], systemStreams(), os.Getenv))
}
