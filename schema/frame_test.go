package schema

import (
	"errors"
	"testing"
)

func TestFrames(t *testing.T) {
	frame := AppendFrame([]byte("x"), 0x01020304, []byte("body"))
	if got, want := string(frame), "x\x00\x01\x02\x03\x04body"; got != want {
		t.Fatalf("AppendFrame = %q, want %q", got, want)
	}
	id, body, err := SplitFrame(frame[1:])
	if err != nil || id != 0x01020304 || string(body) != "body" {
		t.Fatalf("SplitFrame = %d, %q, %v", id, body, err)
	}
	id, body, err = SplitFrame(AppendFrame(nil, 1<<32-1, nil))
	if err != nil || id != 1<<32-1 || len(body) != 0 {
		t.Fatalf("header-only frame: %d, %q, %v", id, body, err)
	}
	tests := []struct {
		in   []byte
		is   error
		want string
	}{
		{nil, ErrShortFrame, "split 0-byte frame: frame shorter than the 5-byte Confluent header"},
		{[]byte{0, 0, 0, 1}, ErrShortFrame, "split 4-byte frame: frame shorter than the 5-byte Confluent header"},
		{[]byte{1, 0, 0, 0, 1}, ErrMagicByte, "split frame: first byte is 0x01: frame does not start with the Confluent magic byte 0"},
		{[]byte(`{"a":1}`), ErrMagicByte, "split frame: first byte is 0x7b: frame does not start with the Confluent magic byte 0"},
	}
	for _, tc := range tests {
		_, _, err := SplitFrame(tc.in)
		if !errors.Is(err, tc.is) || err.Error() != tc.want {
			t.Errorf("SplitFrame(%q) error = %v, want %s", tc.in, err, tc.want)
		}
	}
}
