package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// health asks a daemon's /healthz and fails unless it answers 200. A
// container image has no curl; its health check runs this.
func health(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("health")
	url := fs.String("url", "http://127.0.0.1:8083/healthz", "health endpoint of the daemon's REST listener")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	err := parseFlags(fs, args, stdout, func() {
		fmt.Fprint(stdout, "Usage: sluice health [flags]\n\nAsk a running daemon's /healthz; exit 0 when it answers 200 (the container image's health check).\n\nFlags:\n")
		fs.PrintDefaults()
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("health: unexpected argument %q (see 'sluice health --help')", fs.Arg(0))}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageError{fmt.Errorf("health: %w", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(stdout, "healthy")
	return nil
}
