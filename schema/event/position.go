package event

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is where an event sits in its source's log. Positions of one
// source are totally ordered: first by Commit, the log position of the
// committing transaction's commit record (Postgres: the commit LSN; MySQL: a
// number built from the binlog file and the transaction's commit position),
// then by Index, the event's place in its transaction counted from 0.
//
// Commit positions are 8-byte aligned: Postgres aligns every WAL record to 8
// bytes, and the MySQL source builds its Commit values that way. Version
// relies on it.
type Position struct {
	Commit uint64
	Index  uint32
}

// Compare returns -1, 0 or +1 as p is before, equal to or after o.
func (p Position) Compare(o Position) int {
	switch {
	case p.Commit < o.Commit:
		return -1
	case p.Commit > o.Commit:
		return 1
	case p.Index < o.Index:
		return -1
	case p.Index > o.Index:
		return 1
	}
	return 0
}

// maxVersionCommit is the first Commit that Version cannot represent: 2^50, a
// WAL or binlog position of one pebibyte.
const maxVersionCommit = 1 << 50

// Version packs the position into a positive int64 for sinks that order
// writes by a number (Elasticsearch external versions):
//
//	(Commit >> 3) << 16 | min(Index, 65535)
//
// It is exact and strictly increasing for Commit below 2^50 (one pebibyte of
// log) and the first 65,535 events of a transaction; later events of the same
// transaction share the version 65535, so a sink must accept equal versions
// (Elasticsearch's external_gte) and rely on the in-order delivery within a
// partition for them. Version returns an error past 2^50 rather than wrap.
func (p Position) Version() (int64, error) {
	if p.Commit >= maxVersionCommit {
		return 0, fmt.Errorf("position %s is past the 1 PiB a version can represent", p)
	}
	return int64((p.Commit>>3)<<16 | uint64(min(p.Index, 0xFFFF))), nil
}

// String renders the position as "commit/index" with the commit in
// hexadecimal, for logs and offsets ("16B3748/3").
func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 16) + "/" + strconv.FormatUint(uint64(p.Index), 10)
}

// ParsePosition parses the form String produces.
func ParsePosition(s string) (Position, error) {
	c, i, ok := strings.Cut(s, "/")
	if !ok {
		return Position{}, fmt.Errorf("parse position %q: want COMMIT/INDEX", s)
	}
	commit, err := strconv.ParseUint(c, 16, 64)
	if err != nil {
		return Position{}, fmt.Errorf("parse position %q: commit: %w", s, err)
	}
	index, err := strconv.ParseUint(i, 10, 32)
	if err != nil {
		return Position{}, fmt.Errorf("parse position %q: index: %w", s, err)
	}
	return Position{Commit: commit, Index: uint32(index)}, nil
}

// BinlogCommit is the Commit of a MySQL or MariaDB transaction that starts
// at pos of binlog file (pos being the end of its first event, the GTID or
// BEGIN event), and of snapshot rows consistent with a snapshot taken at
// pos:
//
//	Commit = (fileSeq << 32 | pos) << 3
//
// where fileSeq is the number the file name ends with (mysql-bin.000042 →
// 42). The binlog writes transactions whole, one after the other, and the
// file number grows with every rotation, so Commit grows with every
// transaction over a source's whole life; the shift by 3 makes it 8-byte
// aligned. A snapshot taken at pos precedes every transaction streamed
// after it, whose first event ends past pos. Version represents Commit
// exactly for binlog files numbered below 32768. The MySQL source positions
// its events with it, and sinks rebuild positions from an event's
// source.file and source.pos with it.
func BinlogCommit(file string, pos uint32) (uint64, error) {
	i := strings.LastIndexByte(file, '.')
	seq, err := strconv.ParseUint(file[i+1:], 10, 32)
	if i < 0 || err != nil {
		return 0, fmt.Errorf("binlog file name %q does not end with a sequence number", file)
	}
	return (seq<<32 | uint64(pos)) << 3, nil
}
