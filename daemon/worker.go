package daemon

import (
	"context"
	"fmt"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// Worker runs one connector instance (its one task).
type Worker interface {
	// Run works until ctx ends, then returns ctx's error. An error wrapping
	// connectors.ErrPermanent puts the connector in FAILED without retry;
	// any other error restarts it after a backoff. Returning nil before ctx
	// ends means the connector has finished for good (it shows as STOPPED
	// and is not restarted). Run is called once per Worker, from one
	// goroutine.
	Run(ctx context.Context) error
}

// WorkerFactory builds the worker of a connector from its checked
// configuration (references resolved, so cfg holds secrets: never log it).
// It is called each time the connector starts or restarts, from the
// connector's own goroutine; ctx ends when that run is stopped. An error
// counts as Run's error would.
type WorkerFactory func(ctx context.Context, name string, class *connectors.Class, cfg *conf.Config, env connectors.Env) (Worker, error)

// NoRuntime is the WorkerFactory of a build that can check and manage
// connectors but not run them: every connector goes to FAILED saying so.
func NoRuntime(ctx context.Context, name string, class *connectors.Class, cfg *conf.Config, env connectors.Env) (Worker, error) {
	return nil, connectors.Permanent(fmt.Errorf("connector class %s has no runtime in this build", class.Name))
}
