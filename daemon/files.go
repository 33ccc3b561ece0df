package daemon

import (
	"context"
	"maps"

	"github.com/sluice-cdc/sluice/daemon/config"
)

// SyncFiles makes the file-defined connectors match files, the definitions
// read from the connectors directory (on SIGHUP): it checks every
// definition first and, if any has a problem, returns config.Problems and
// changes nothing. Then connectors whose file is gone are stopped and
// deleted with their offsets; new ones are created in their initial state;
// changed ones are reconfigured, keeping their target state and offsets,
// and restarted if running. A file that names a connector created through
// the API takes it over: files win.
func (s *Supervisor) SyncFiles(ctx context.Context, files []config.Connector) error {
	if ps := s.checkAll(files); len(ps) > 0 {
		return ps
	}
	return s.applyFiles(ctx, files)
}

func (s *Supervisor) checkAll(files []config.Connector) config.Problems {
	var ps config.Problems
	for _, f := range files {
		_, fps := config.Check(f, s.opts.Resolver)
		ps = append(ps, fps...)
	}
	return ps
}

// applyFiles applies checked definitions.
func (s *Supervisor) applyFiles(ctx context.Context, files []config.Connector) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	want := map[string]config.Connector{}
	var names []string
	for _, f := range files {
		want[f.Name] = f
		names = append(names, f.Name)
	}
	for _, name := range s.Names() {
		c, unlock, err := s.lock(name)
		if err != nil {
			continue
		}
		if _, kept := want[name]; c.rec.File != "" && !kept {
			s.log.Info("connector file removed; deleting the connector", "connector", name, "file", c.rec.File)
			err = s.remove(ctx, name, c)
		}
		unlock()
		if err != nil {
			return err
		}
	}
	for _, name := range names {
		def := want[name]
		c, unlock, err := s.lock(name)
		if err != nil {
			if err := s.add(ctx, def); err != nil {
				return err
			}
			continue
		}
		if c.rec.File != def.File || !maps.Equal(c.rec.Config, def.Config) {
			if c.rec.File == "" {
				s.log.Warn("a connector file now manages a connector created through the API", "connector", name, "file", def.File)
			}
			err = s.replace(ctx, name, c, def.Config, def.File)
		}
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
