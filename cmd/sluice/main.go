// Command sluice is the change-data-capture daemon: it tails PostgreSQL and
// MySQL/MariaDB replication logs into Kafka as Avro and runs sink workers that
// keep Elasticsearch indices and Server-Sent-Events subscribers up to date.
//
// Usage:
//
//	sluice run --config sluice.json [--connectors-dir DIR]
//	sluice validate --config sluice.json [--connectors-dir DIR]
//	sluice version
//	sluice health [--url http://127.0.0.1:8083/healthz]
//	sluice docs [--dir docs/reference]
//
// Exit codes: 0 success, 1 runtime failure, 2 bad usage or invalid configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// usageError marks a failure caused by how sluice was invoked or configured;
// it exits with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

const usage = `sluice — change data capture from PostgreSQL and MySQL/MariaDB into Kafka,
with Elasticsearch and Server-Sent-Events sinks.

Usage:
  sluice <command> [flags]

Commands:
  run        start the daemon: REST API, connectors, sinks
  validate   check the daemon config and connector files, start nothing,
             and print every problem with the key it concerns
  version    print the version
  health     ask a running daemon's /healthz; exit 0 when healthy
             (the container image's health check)
  docs       write the configuration reference (a page per connector
             class and one for the daemon) as Markdown

Run 'sluice <command> --help' for the flags of a command.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid configuration.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "--version":
		fmt.Fprintf(stdout, "sluice %s\n", version)
		return exitOK
	case "run":
		err = runDaemon(ctx, rest, stdout, stderr)
	case "validate":
		err = validate(rest, stdout, stderr)
	case "health":
		err = health(ctx, rest, stdout)
	case "docs":
		err = docs(rest, stdout)
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return exitRuntime
	}
}
