package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// importedMark is the file Import leaves in a state directory it has
// imported, so that it imports it only once.
const importedMark = "imported-to-cluster"

// Import copies the connectors of a standalone store directory — configs,
// target states, offsets and active topics — into to, once, as connectors
// managed through the REST API (connector files are standalone mode's):
// it then marks
// the directory, and a connector the cluster already holds is left as the
// cluster has it. It returns how many connectors it copied; a missing
// directory has none.
func Import(ctx context.Context, dir string, to Store, log *slog.Logger) (int, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if _, err := os.Stat(filepath.Join(dir, importedMark)); err == nil {
		return 0, nil
	}
	from, err := Open(dir)
	if err != nil {
		return 0, err
	}
	recs, err := from.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if _, err := to.Get(ctx, r.Name); err == nil {
			log.Warn("cluster: a standalone connector is not imported: the cluster already has one of that name", "connector", r.Name, "dir", dir)
			continue
		}
		// Connector files are standalone mode's: the cluster manages the
		// connector through the REST API from now on.
		r.File = ""
		if err := to.Put(ctx, r); err != nil {
			return n, fmt.Errorf("import connector %s: %w", r.Name, err)
		}
		if err := to.SetOffsets(ctx, r.Name, r.Offsets); err != nil {
			return n, fmt.Errorf("import the offsets of connector %s: %w", r.Name, err)
		}
		if err := to.SetTopics(ctx, r.Name, r.Topics); err != nil {
			return n, fmt.Errorf("import the topics of connector %s: %w", r.Name, err)
		}
		n++
	}
	mark := fmt.Sprintf("imported %d connectors into the cluster at %s\n", n, time.Now().UTC().Format(time.RFC3339))
	if err := writeAtomic(dir, importedMark, []byte(mark)); err != nil {
		return n, fmt.Errorf("mark %s imported: %w", dir, err)
	}
	log.Info("cluster: imported the standalone state directory's connectors and offsets; it will not be imported again", "dir", dir, "connectors", n, "skipped", len(recs)-n)
	return n, nil
}
