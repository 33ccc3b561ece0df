package sse

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
)

// layout is the set of topics a stream reads, sorted by name, with each
// topic's partition count. It is fixed when the sink starts.
type layout struct {
	topics []string
	parts  []int32
	hashes []uint32
	index  map[string]int
}

func newLayout(parts map[string]int32) *layout {
	l := &layout{index: map[string]int{}}
	for t := range parts {
		l.topics = append(l.topics, t)
	}
	slices.Sort(l.topics)
	for i, t := range l.topics {
		h := fnv.New32a()
		h.Write([]byte(t))
		l.parts = append(l.parts, parts[t])
		l.hashes = append(l.hashes, h.Sum32())
		l.index[t] = i
	}
	return l
}

// position holds, per topic of a layout and per partition, the offset of
// the next record to read.
type position [][]int64

func (p position) clone() position {
	out := make(position, len(p))
	for i := range p {
		out[i] = slices.Clone(p[i])
	}
	return out
}

// idVersion is the first byte of every encoded id.
const idVersion = 1

// maxIDLen bounds the ids a request may carry.
const maxIDLen = 4096

// encode renders p as an event id: base64url of the version byte, then per
// topic its name hash (4 bytes big-endian), partition count and next
// offsets as unsigned varints.
func (l *layout) encode(p position) string {
	b := make([]byte, 0, 8+len(p)*12)
	b = append(b, idVersion)
	for i := range p {
		b = binary.BigEndian.AppendUint32(b, l.hashes[i])
		b = binary.AppendUvarint(b, uint64(len(p[i])))
		for _, off := range p[i] {
			b = binary.AppendUvarint(b, uint64(off))
		}
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// errBadID is wrapped by the errors of decode: the id is not one of the
// stream's positions, and the client must be reset.
var errBadID = errors.New("unknown event id")

// validIDChars reports whether id could be an encoded id at all: at most
// maxIDLen bytes of the base64url alphabet. Anything else is refused
// outright rather than answered with a reset.
func validIDChars(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// decode parses an id made by encode for this layout.
func (l *layout) decode(id string) (position, error) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) == 0 || b[0] != idVersion {
		return nil, fmt.Errorf("%w: not an id of this stream", errBadID)
	}
	b = b[1:]
	p := make(position, len(l.topics))
	for i := range l.topics {
		if len(b) < 4 || binary.BigEndian.Uint32(b) != l.hashes[i] {
			return nil, fmt.Errorf("%w: the stream's topics changed", errBadID)
		}
		b = b[4:]
		n, k := binary.Uvarint(b)
		if k <= 0 || n != uint64(l.parts[i]) {
			return nil, fmt.Errorf("%w: the partitions of topic %q changed", errBadID, l.topics[i])
		}
		b = b[k:]
		p[i] = make([]int64, n)
		for j := range p[i] {
			off, k := binary.Uvarint(b)
			if k <= 0 || off > 1<<62 {
				return nil, fmt.Errorf("%w: truncated", errBadID)
			}
			p[i][j], b = int64(off), b[k:]
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: the stream's topics changed", errBadID)
	}
	return p, nil
}
