package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Confluent wire format: a magic byte, the schema id, then the Avro body.
const (
	magicByte       = 0
	frameHeaderSize = 5
)

// Errors SplitFrame returns, for callers that branch on them.
var (
	ErrShortFrame = errors.New("frame shorter than the 5-byte Confluent header")
	ErrMagicByte  = errors.New("frame does not start with the Confluent magic byte 0")
)

// AppendFrame appends a Confluent wire-format frame to dst: magic byte 0, id
// as 4 bytes big-endian, then body. AppendFrame(dst, id, nil) appends only
// the header, so a Codec can append the body after it without a copy.
func AppendFrame(dst []byte, id uint32, body []byte) []byte {
	dst = append(dst, magicByte)
	dst = binary.BigEndian.AppendUint32(dst, id)
	return append(dst, body...)
}

// SplitFrame splits a Confluent wire-format frame into its schema id and Avro
// body; body aliases b. Frames shorter than the header wrap ErrShortFrame, a
// wrong first byte wraps ErrMagicByte.
func SplitFrame(b []byte) (id uint32, body []byte, err error) {
	if len(b) < frameHeaderSize {
		return 0, nil, fmt.Errorf("split %d-byte frame: %w", len(b), ErrShortFrame)
	}
	if b[0] != magicByte {
		return 0, nil, fmt.Errorf("split frame: first byte is %#02x: %w", b[0], ErrMagicByte)
	}
	return binary.BigEndian.Uint32(b[1:frameHeaderSize]), b[frameHeaderSize:], nil
}
