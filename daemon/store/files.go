package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/sluice-cdc/sluice/connectors"
)

// Files is a Store that keeps one JSON file per connector in a directory,
// each written atomically (temporary file, fsync, rename, fsync of the
// directory). It holds every record in memory and writes through on each
// change; files are readable only by their owner, since a configuration may
// hold literal secrets.
type Files struct {
	dir     string
	mu      sync.Mutex
	records map[string]*Record
}

var _ Store = (*Files)(nil)

// Open loads the store kept in dir, creating dir when missing and removing
// leftovers of interrupted writes. A file that cannot be decoded is an
// error naming it: nothing is silently dropped.
func Open(dir string) (*Files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	f := &Files{dir: dir, records: map[string]*Record{}}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			continue
		case strings.HasPrefix(name, tempPrefix):
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("open store: remove interrupted write %s: %w", name, err)
			}
			continue
		case !strings.HasSuffix(name, ".json"):
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		var rec Record
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, fmt.Errorf("open store: decode %s: %w", filepath.Join(dir, name), err)
		}
		if rec.Name == "" || fileName(rec.Name) != name {
			return nil, fmt.Errorf("open store: %s holds connector %q, whose file would be %s", filepath.Join(dir, name), rec.Name, fileName(rec.Name))
		}
		f.records[rec.Name] = &rec
	}
	return f, nil
}

// fileName is the file a connector is kept in: its name with every byte
// other than ASCII letters, digits, '-' and '_' written as %XX, so that any
// name maps to exactly one safe file name.
func fileName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String() + ".json"
}

func clone(r *Record) Record {
	c := *r
	c.Config = maps.Clone(r.Config)
	c.Offsets = maps.Clone(r.Offsets)
	c.Topics = slices.Clone(r.Topics)
	return c
}

// List returns every connector, sorted by name.
func (f *Files) List(ctx context.Context) ([]Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Record, 0, len(f.records))
	for _, r := range f.records {
		out = append(out, clone(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the named connector.
func (f *Files) Get(ctx context.Context, name string) (Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[name]
	if !ok {
		return Record{}, fmt.Errorf("connector %q: %w", name, ErrNotFound)
	}
	return clone(r), nil
}

// Put creates or replaces a connector, keeping its offsets and topics.
func (f *Files) Put(ctx context.Context, rec Record) error {
	if rec.Name == "" {
		return fmt.Errorf("store connector: empty name")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	next := clone(&rec)
	next.Offsets, next.Topics = nil, nil
	if old, ok := f.records[rec.Name]; ok {
		next.Offsets, next.Topics = maps.Clone(old.Offsets), slices.Clone(old.Topics)
	}
	return f.write(&next)
}

// SetTarget changes a connector's target state.
func (f *Files) SetTarget(ctx context.Context, name string, t Target) error {
	return f.update(name, func(r *Record) { r.Target = t })
}

// SetOffsets replaces all of a connector's offsets.
func (f *Files) SetOffsets(ctx context.Context, name string, offsets map[string]json.RawMessage) error {
	return f.update(name, func(r *Record) { r.Offsets = maps.Clone(offsets) })
}

// SetTopics replaces a connector's active topics.
func (f *Files) SetTopics(ctx context.Context, name string, topics []string) error {
	return f.update(name, func(r *Record) { r.Topics = slices.Clone(topics) })
}

// Delete removes a connector and its offsets.
func (f *Files) Delete(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.records[name]; !ok {
		return fmt.Errorf("connector %q: %w", name, ErrNotFound)
	}
	if err := removeDurably(f.dir, fileName(name)); err != nil {
		return fmt.Errorf("delete connector %q: %w", name, err)
	}
	delete(f.records, name)
	return nil
}

// update applies change to a copy of the record and writes it.
func (f *Files) update(name string, change func(*Record)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.records[name]
	if !ok {
		return fmt.Errorf("connector %q: %w", name, ErrNotFound)
	}
	next := clone(old)
	change(&next)
	return f.write(&next)
}

// write persists rec and, once durable, makes it the current record.
// f.mu is held.
func (f *Files) write(rec *Record) error {
	if len(rec.Offsets) == 0 {
		rec.Offsets = nil
	}
	if len(rec.Topics) == 0 {
		rec.Topics = nil
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode connector %q: %w", rec.Name, err)
	}
	if err := writeAtomic(f.dir, fileName(rec.Name), append(data, '\n')); err != nil {
		return fmt.Errorf("store connector %q: %w", rec.Name, err)
	}
	f.records[rec.Name] = rec
	return nil
}

// Offsets is the named connector's OffsetStore.
func (f *Files) Offsets(name string) connectors.OffsetStore { return offsets{f, name} }

// offsets is one connector's view of Files as a connectors.OffsetStore.
type offsets struct {
	f    *Files
	name string
}

// Load returns the offset stored under key, or nil when there is none.
func (o offsets) Load(ctx context.Context, key string) ([]byte, error) {
	o.f.mu.Lock()
	defer o.f.mu.Unlock()
	r, ok := o.f.records[o.name]
	if !ok {
		return nil, fmt.Errorf("load offset %q of connector %q: %w", key, o.name, ErrNotFound)
	}
	return append([]byte(nil), r.Offsets[key]...), nil
}

// Save stores value, which must be a JSON document, under key; it is
// durable when Save returns.
func (o offsets) Save(ctx context.Context, key string, value []byte) error {
	if !json.Valid(value) {
		return fmt.Errorf("save offset %q of connector %q: value is not a JSON document", key, o.name)
	}
	return o.f.update(o.name, func(r *Record) {
		if r.Offsets == nil {
			r.Offsets = map[string]json.RawMessage{}
		}
		r.Offsets[key] = append(json.RawMessage(nil), value...)
	})
}
