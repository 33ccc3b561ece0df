package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

// history is the schema history of the captured tables: each table's
// definition as of a binlog position, so that row events are decoded with
// the table schema in force when they were written even when the binlog
// does not name the columns (binlog_row_metadata MINIMAL or NO_LOG).
//
// It starts with every captured table's definition read from
// information_schema at the start position (the snapshot's, or the
// server's current position on a first start without snapshot); each DDL
// statement is then applied in binlog order (ddl.go) and recorded with
// its end position.
//
// It is kept in the connector's offset store, under its own key
// "history=<topic.prefix>", as one JSON document, rather than in a Kafka
// topic as Debezium does (schema.history.internal.kafka.topic): the offset
// store is where the position the history must agree with is kept, it is
// written durably before Save returns, and it needs no topic with
// unlimited retention and no second Kafka client. Each entry is the
// definition of one table (nil: dropped) as of the end position of the DDL
// that made it. On load, entries after the stored position are discarded:
// the stream reads that DDL again and re-applies it. Its size is bounded:
// saving keeps only the latest entry per table at or before the confirmed
// position, plus the later entries.
//
// It is used by the stream's goroutine, and read by the snapshot's
// (which runs before); the mutex makes that safe in any order.
type history struct {
	offsets connectors.OffsetStore // nil: nothing is kept
	key     string
	// confirmed returns the last position Kafka acknowledged, used to
	// compact; nil or !ok: none yet.
	confirmed func() (Position, bool)

	mu      sync.Mutex
	entries []historyEntry // in binlog order
	cur     map[event.TableID]*tableDef
	charset map[string]string // default character sets of databases
}

// historyEntry is one table's definition from a position on.
type historyEntry struct {
	Pos      Position  `json:"pos"`
	Database string    `json:"db"`
	Table    string    `json:"table"`
	Def      *tableDef `json:"def"` // nil: the table was dropped
}

type historyDoc struct {
	Charsets map[string]string `json:"charsets,omitempty"`
	Entries  []historyEntry    `json:"entries"`
}

// historyKey is the offset-store key of a connector's schema history.
func historyKey(topicPrefix string) string { return "history=" + topicPrefix }

func newHistory(offsets connectors.OffsetStore, topicPrefix string) *history {
	return &history{offsets: offsets, key: historyKey(topicPrefix), cur: map[event.TableID]*tableDef{}, charset: map[string]string{}}
}

// order compares binlog positions.
func order(p Position) uint64 {
	c, err := event.BinlogCommit(p.File, p.Pos)
	if err != nil {
		return 0
	}
	return c
}

// load reads the stored history as of position at: entries after it are
// discarded. It reports whether a history was stored with an entry at or
// before at.
func (h *history) load(ctx context.Context, at Position) (bool, error) {
	if h.offsets == nil {
		return false, nil
	}
	raw, err := h.offsets.Load(ctx, h.key)
	if err != nil {
		return false, fmt.Errorf("load the schema history %s: %w", h.key, err)
	}
	if len(raw) == 0 {
		return false, nil
	}
	var doc historyDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return false, fmt.Errorf("decode the schema history %s: %w", h.key, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	limit := order(at)
	h.entries = h.entries[:0]
	for _, e := range doc.Entries {
		if order(e.Pos) <= limit {
			h.entries = append(h.entries, e)
		}
	}
	if doc.Charsets != nil {
		h.charset = doc.Charsets
	}
	h.rebuild()
	return len(h.entries) > 0, nil
}

// rebuild recomputes cur from the entries. h.mu is held.
func (h *history) rebuild() {
	h.cur = map[event.TableID]*tableDef{}
	for _, e := range h.entries {
		id := event.TableID{Database: e.Database, Table: e.Table}
		if e.Def == nil {
			delete(h.cur, id)
		} else {
			h.cur[id] = e.Def
		}
	}
}

// reset replaces the history by the definitions of defs at pos and saves it.
func (h *history) reset(ctx context.Context, pos Position, defs map[event.TableID]*tableDef, charsets map[string]string) error {
	h.mu.Lock()
	ids := make([]event.TableID, 0, len(defs))
	for id := range defs {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b event.TableID) int {
		if a.Database != b.Database {
			if a.Database < b.Database {
				return -1
			}
			return 1
		}
		if a.Table < b.Table {
			return -1
		}
		if a.Table > b.Table {
			return 1
		}
		return 0
	})
	h.entries = h.entries[:0]
	for _, id := range ids {
		h.entries = append(h.entries, historyEntry{Pos: pos, Database: id.Database, Table: id.Table, Def: defs[id]})
	}
	for db, cs := range charsets {
		h.charset[db] = cs
	}
	h.rebuild()
	h.mu.Unlock()
	return h.save(ctx)
}

// def returns a table's current definition, nil if unknown or dropped.
func (h *history) def(id event.TableID) *tableDef {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur[id]
}

// dbCharset returns a database's default character set, "" if unknown.
func (h *history) dbCharset(db string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.charset[db]
}

// tables lists the tables of a database with a definition.
func (h *history) tables(db string) []event.TableID {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []event.TableID
	for id := range h.cur {
		if id.Database == db {
			out = append(out, id)
		}
	}
	return out
}

// record adds the changes a DDL ending at pos made, and saves the history.
func (h *history) record(ctx context.Context, pos Position, changes []tableChange, charsets map[string]string) error {
	h.mu.Lock()
	for _, c := range changes {
		h.entries = append(h.entries, historyEntry{Pos: pos, Database: c.ID.Database, Table: c.ID.Table, Def: c.Def})
		if c.Def == nil {
			delete(h.cur, c.ID)
		} else {
			h.cur[c.ID] = c.Def
		}
	}
	for db, cs := range charsets {
		h.charset[db] = cs
	}
	h.mu.Unlock()
	return h.save(ctx)
}

// save compacts the entries at or before the confirmed position and
// stores the history.
func (h *history) save(ctx context.Context) error {
	if h.offsets == nil {
		return nil
	}
	h.mu.Lock()
	if h.confirmed != nil {
		if p, ok := h.confirmed(); ok {
			h.compact(order(p))
		}
	}
	raw, err := json.Marshal(historyDoc{Charsets: h.charset, Entries: h.entries})
	h.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode the schema history: %w", err)
	}
	if err := h.offsets.Save(ctx, h.key, raw); err != nil {
		return fmt.Errorf("save the schema history %s: %w", h.key, err)
	}
	return nil
}

// compact keeps, of the entries at or before limit, only the latest of
// each table (none for a dropped table), and every later entry. h.mu is
// held.
func (h *history) compact(limit uint64) {
	latest := map[event.TableID]int{}
	for i, e := range h.entries {
		if order(e.Pos) <= limit {
			latest[event.TableID{Database: e.Database, Table: e.Table}] = i
		}
	}
	kept := h.entries[:0:0]
	for i, e := range h.entries {
		if order(e.Pos) > limit {
			kept = append(kept, e)
			continue
		}
		if latest[event.TableID{Database: e.Database, Table: e.Table}] == i && e.Def != nil {
			kept = append(kept, e)
		}
	}
	h.entries = kept
}
