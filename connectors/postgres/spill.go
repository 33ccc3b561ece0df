package postgres

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/jackc/pglogrepl"
)

// spill holds the messages of one in-progress transaction that Postgres
// streams before it commits (pgoutput protocol 2). They go to a file, so a
// transaction larger than memory costs only disk, and are replayed in order
// once the transaction commits; an abort deletes them.
//
// A spill is used by the replication loop's goroutine only.
type spill struct {
	path    string
	f       *os.File
	w       *bufio.Writer
	aborted map[uint32]bool // subtransactions rolled back
}

func openSpill(dir string, xid uint32) (*spill, error) {
	path := filepath.Join(dir, strconv.FormatUint(uint64(xid), 10)+".spill")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open spill file for transaction %d: %w", xid, err)
	}
	return &spill{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), aborted: map[uint32]bool{}}, nil
}

// add appends one raw pgoutput message and the LSN it was found at.
func (s *spill) add(lsn pglogrepl.LSN, msg []byte) error {
	var n [12]byte
	binary.BigEndian.PutUint64(n[:8], uint64(lsn))
	binary.BigEndian.PutUint32(n[8:], uint32(len(msg)))
	if _, err := s.w.Write(n[:]); err != nil {
		return fmt.Errorf("write spill file %s: %w", s.path, err)
	}
	if _, err := s.w.Write(msg); err != nil {
		return fmt.Errorf("write spill file %s: %w", s.path, err)
	}
	return nil
}

// replay calls fn with each spilled message, and its LSN, in the order they
// were added. The slice passed to fn is reused for the next message.
func (s *spill) replay(fn func(lsn pglogrepl.LSN, msg []byte) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("flush spill file %s: %w", s.path, err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind spill file %s: %w", s.path, err)
	}
	r := bufio.NewReaderSize(s.f, 256<<10)
	var buf []byte
	var n [12]byte
	for {
		if _, err := io.ReadFull(r, n[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read spill file %s: %w", s.path, err)
		}
		lsn := pglogrepl.LSN(binary.BigEndian.Uint64(n[:8]))
		size := int(binary.BigEndian.Uint32(n[8:]))
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("read spill file %s: %w", s.path, err)
		}
		if err := fn(lsn, buf); err != nil {
			return err
		}
	}
}

// remove closes and deletes the file.
func (s *spill) remove() error {
	cerr := s.f.Close()
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove spill file: %w", err)
	}
	return cerr
}

// resetSpillDir empties the spill directory at start: streamed transactions
// that were not committed before a restart are sent again by Postgres.
func resetSpillDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear spill directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create spill directory %s: %w", dir, err)
	}
	return nil
}
