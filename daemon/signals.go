package daemon

import (
	"errors"
	"fmt"

	"github.com/sluice-cdc/sluice/connectors"
)

// ErrNoSignals marks a signal sent to a connector whose class takes none.
var ErrNoSignals = errors.New("connector takes no signals")

// Signal sends sig to a source connector: a running source acts on it
// within a second; one that is paused, stopped or restarting acts on it
// once it runs again (signals wait in the daemon's memory).
func (s *Supervisor) Signal(name string, sig connectors.Signal) error {
	c, err := s.signalled(name)
	if err != nil {
		return err
	}
	c.signals.Post(sig)
	return nil
}

// Snapshots returns the incremental snapshots a source connector runs and
// ran since the daemon started, as it last published them.
func (s *Supervisor) Snapshots(name string) ([]connectors.SnapshotStatus, error) {
	c, err := s.signalled(name)
	if err != nil {
		return nil, err
	}
	return c.signals.Snapshots(), nil
}

// signalled returns a connector whose class takes signals.
func (s *Supervisor) signalled(name string) (*conn, error) {
	s.mu.Lock()
	c, ok := s.conns[name]
	s.mu.Unlock()
	if !ok {
		return nil, notFound(name)
	}
	if class, ok := connectors.Lookup(c.rec.Config["connector.class"]); !ok || !class.Signals {
		return nil, &kindError{fmt.Sprintf("Connector %s takes no signals: incremental snapshots are taken by sources whose class takes them (postgres, mysql, mariadb)", name), ErrNoSignals}
	}
	return c, nil
}
