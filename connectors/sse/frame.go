package sse

import "bytes"

// appendFrame appends one SSE event: its id, its event name and its data,
// one data: line per line of data (split at CR LF, CR or LF), then the
// blank line that dispatches it. An empty id or name is left out; CR, LF
// and NUL are dropped from both, so they cannot end the field early.
func appendFrame(dst []byte, id, name string, data []byte) []byte {
	if id != "" {
		dst = append(dst, "id: "...)
		dst = appendField(dst, id)
		dst = append(dst, '\n')
	}
	if name != "" {
		dst = append(dst, "event: "...)
		dst = appendField(dst, name)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		dst = append(dst, "data: "...)
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, '\n', '\n')
}

// appendIDFrame appends a frame that only sets the client's last event id.
func appendIDFrame(dst []byte, id string) []byte {
	dst = append(dst, "id: "...)
	dst = appendField(dst, id)
	return append(dst, '\n', '\n')
}

func appendField(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\r' && c != '\n' && c != 0 {
			dst = append(dst, c)
		}
	}
	return dst
}
