package main

import (
	"context"
	"log/slog"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/runtime"
)

// newRuntime builds what runs connectors for the daemon config d: the
// WorkerFactory that turns a checked connector into a running pipeline
// recording into m, the sinks' consumer group offsets, and a function that
// releases what the factory holds (the embedded broker and registry),
// called once every worker has returned.
func newRuntime(ctx context.Context, d *config.Daemon, logger *slog.Logger, m *metrics.Registry) (daemon.WorkerFactory, daemon.GroupOffsets, func() error, error) {
	rt, err := runtime.New(ctx, d, logger, m)
	if err != nil {
		return nil, nil, nil, err
	}
	return rt.Workers, rt.Groups(), rt.Close, nil
}
