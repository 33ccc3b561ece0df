package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// fileOffsets keeps the connector's offsets as one file per key in dir, so
// they survive the restarts of the pipeline process within a run. Save
// writes a temporary file and renames it over the old one.
type fileOffsets struct {
	dir string
	mu  sync.Mutex
}

func (o *fileOffsets) path(key string) string {
	return filepath.Join(o.dir, "offset-"+fmt.Sprintf("%x", key))
}

// Load returns the value saved under key, or nil.
func (o *fileOffsets) Load(_ context.Context, key string) ([]byte, error) {
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
func (o *fileOffsets) Save(_ context.Context, key string, value []byte) error {
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
