package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
)

// probe calls a connector class's Probe at once and then every
// ProbeInterval until ctx ends or stop is called, and keeps what it finds
// wrong as the run's problem: the trace a RUNNING connector shows, as
// Kafka Connect shows a task's trouble. stop waits for the probe to end
// and clears the problem.
func (s *Supervisor) probe(ctx context.Context, log *slog.Logger, c *conn, r *run, check func(context.Context, *conf.Config) error, cfg *conf.Config) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.opts.ProbeInterval)
		defer t.Stop()
		for {
			pctx, done := context.WithTimeout(ctx, s.opts.ProbeInterval)
			err := check(pctx, cfg)
			done()
			if ctx.Err() != nil {
				return
			}
			problem := ""
			if err != nil {
				problem = err.Error()
			}
			if s.setProblem(c, r, problem) {
				if err != nil {
					log.Warn("connector running, but its target cannot be used", "problem", problem)
				} else {
					log.Info("connector target usable again")
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		s.setProblem(c, r, "")
	}
}

// setProblem records the problem run r found, unless r is no longer
// current; it reports whether the problem changed.
func (s *Supervisor) setProblem(c *conn, r *run, problem string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.run != r || c.problem == problem {
		return false
	}
	c.problem = problem
	return true
}
