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
// wrong as the run's problem: the trace a RUNNING task shows, as Kafka
// Connect shows a task's trouble. stop waits for the probe to end and
// clears the problem.
func (s *Supervisor) probe(ctx context.Context, log *slog.Logger, t *task, r *run, check func(context.Context, *conf.Config) error, cfg *conf.Config) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(s.opts.ProbeInterval)
		defer tick.Stop()
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
			if s.setProblem(t, r, problem) {
				if err != nil {
					log.Warn("connector running, but its target cannot be used", "problem", problem)
				} else {
					log.Info("connector target usable again")
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		s.setProblem(t, r, "")
	}
}

// setProblem records the problem run r found, unless r is no longer
// current; it reports whether the problem changed.
func (s *Supervisor) setProblem(t *task, r *run, problem string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.run != r || t.problem == problem {
		return false
	}
	t.problem = problem
	return true
}
