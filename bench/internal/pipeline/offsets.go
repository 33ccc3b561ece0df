package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// FileOffsets keeps a connector's offsets as one file per key in Dir, so
// they survive the restarts of the pipeline process within a run. Save
// writes a temporary file and renames it over the old one.
type FileOffsets struct {
	Dir string
	mu  sync.Mutex
}

func (o *FileOffsets) path(key string) string {
	return filepath.Join(o.Dir, "offset-"+fmt.Sprintf("%x", key))
}

// Load returns the value saved under key, or nil.
func (o *FileOffsets) Load(_ context.Context, key string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, err := os.ReadFile(o.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load offset %q: %w", key, err)
	}
	return b, nil
}

// Save stores value under key.
func (o *FileOffsets) Save(_ context.Context, key string, value []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	tmp := o.path(key) + ".tmp"
	if err := os.WriteFile(tmp, value, 0o600); err != nil {
		return fmt.Errorf("save offset %q: %w", key, err)
	}
	if err := os.Rename(tmp, o.path(key)); err != nil {
		return fmt.Errorf("save offset %q: %w", key, err)
	}
	return nil
}

// Stored returns the offsets saved in dir so far, by file name; the driver
// reads them to see whether a source has stored a position.
func Stored(dir string) (map[string][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "offset-*"))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, n := range names {
		if filepath.Ext(n) == ".tmp" {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(n)] = b
	}
	return out, nil
}
