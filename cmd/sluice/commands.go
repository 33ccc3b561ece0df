package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// daemonFlags are the flags run and validate share.
type daemonFlags struct {
	config        string
	connectorsDir string
}

func parseDaemonFlags(name, summary string, args []string, stderr io.Writer) (daemonFlags, error) {
	var f daemonFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "daemon config file (JSON); settings may also come from SLUICE_* environment variables")
	fs.StringVar(&f.connectorsDir, "connectors-dir", "", "directory of connector files (*.json, each {\"name\", \"config\"})")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	return f, nil
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, err := parseDaemonFlags("run", "Start the daemon: REST API, connectors and sinks. SIGTERM or SIGINT drains and stops it.", args, stderr)
	if err != nil {
		return err
	}
	return errors.New("run: this build has no daemon runtime yet; only 'validate' and 'version' work")
}

func validate(args []string, stdout, stderr io.Writer) error {
	_, err := parseDaemonFlags("validate", "Check the daemon config and connector files without starting anything.", args, stderr)
	if err != nil {
		return err
	}
	return errors.New("validate: this build has no configuration checks yet")
}
