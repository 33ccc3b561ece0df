package logical

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/schema/event"
)

// JSON returns io.debezium.data.Json, a string holding a JSON document.
func JSON() *event.Schema {
	return &event.Schema{Type: event.String, Name: event.JSONName, Version: 1}
}

// UUID returns io.debezium.data.Uuid, a string in canonical form.
func UUID() *event.Schema {
	return &event.Schema{Type: event.String, Name: event.UUIDName, Version: 1}
}

// XML returns io.debezium.data.Xml, a string holding an XML document.
func XML() *event.Schema {
	return &event.Schema{Type: event.String, Name: event.XMLName, Version: 1}
}

// Enum returns io.debezium.data.Enum: a string whose "allowed" parameter
// lists the values in declaration order, comma-separated.
func Enum(values []string) *event.Schema {
	return &event.Schema{Type: event.String, Name: event.EnumName, Version: 1,
		Params: map[string]string{event.AllowedParam: strings.Join(values, ",")}}
}

// EnumSet returns io.debezium.data.EnumSet: a string of comma-separated
// members whose "allowed" parameter lists every possible member. Its value
// comes from EnumSetValue.
func EnumSet(values []string) *event.Schema {
	return &event.Schema{Type: event.String, Name: event.EnumSetName, Version: 1,
		Params: map[string]string{event.AllowedParam: strings.Join(values, ",")}}
}

// EnumSetValue joins the members of a set value, in declaration order.
func EnumSetValue(members []string) string { return strings.Join(members, ",") }

// Bits returns io.debezium.data.Bits for a bit string of length bits: bytes
// holding the bits little-endian (bit 0 is the lowest bit of byte 0). Its
// value comes from BitsValue.
func Bits(length int) *event.Schema {
	return &event.Schema{Type: event.Bytes, Name: event.BitsName, Version: 1,
		Params: map[string]string{event.LengthParam: strconv.Itoa(length)}}
}

// BitsValue returns the little-endian bytes of the low bits of v, exactly
// size bytes long.
func BitsValue(v uint64, size int) []byte {
	b := make([]byte, size)
	for i := 0; i < size && i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// Binary returns the schema of a byte-string column under mode: bytes, or a
// string for the base64 and hex modes.
func Binary(mode BinaryMode) *event.Schema {
	if mode == BinaryBytes {
		return &event.Schema{Type: event.Bytes}
	}
	return &event.Schema{Type: event.String}
}

// BinaryValue converts b into the value of Binary(mode). In bytes mode it
// returns b itself, so callers pass a slice they own.
func BinaryValue(mode BinaryMode, b []byte) any {
	switch mode {
	case BinaryBase64:
		return base64.StdEncoding.EncodeToString(b)
	case BinaryBase64URLSafe:
		return base64.URLEncoding.EncodeToString(b)
	case BinaryHex:
		return hex.EncodeToString(b)
	default:
		return b
	}
}
