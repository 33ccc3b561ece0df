package main

import (
	"context"

	"github.com/sluice-cdc/sluice/bench/internal/pipeline"

	// The source class the pipeline runs.
	_ "github.com/sluice-cdc/sluice/connectors/postgres"
)

// startChild starts the pipeline process for e (pipeline.Run with the run's
// connector configuration) and waits until it reports ready. profile, when
// set, is where it writes its CPU profile.
func startChild(ctx context.Context, o options, e *runEnv, profile string) (*pipeline.Child, error) {
	args := []string{"-role", "sluice", "-config", e.configFile, "-registry", e.kafka.RegistryURL,
		"-state", e.stateDir, "-brokers", o.brokers}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	if o.verbose {
		args = append(args, "-v")
	}
	return pipeline.Start(ctx, append(args, o.producer.Args()...)...)
}
