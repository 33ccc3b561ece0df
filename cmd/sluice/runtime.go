package main

import (
	"context"
	"log/slog"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// newRuntime builds what runs connectors for the daemon config d: the
// WorkerFactory that turns a checked connector into a running pipeline, and
// a function that releases what the factory holds (clients, the embedded
// broker), called once every worker has returned.
//
// This build has no connector runtime: every connector goes to FAILED
// saying so, while configuration, the REST API and supervision work.
var newRuntime = func(ctx context.Context, d *config.Daemon, logger *slog.Logger) (daemon.WorkerFactory, func() error, error) {
	return daemon.NoRuntime, func() error { return nil }, nil
}
