package mysql

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/logical"
)

// MariaDB's UUID, INET6 and INET4 are logged in the binlog as fixed byte
// strings of 16, 16 and 4 bytes; only the column's DATA_TYPE (from the
// catalog or the schema history) tells them apart from BINARY(n). They map
// to their text form, as the server shows it: UUID to io.debezium.data.Uuid
// (Debezium's MariaDB mapping), the addresses to plain strings (Debezium
// has no mapping of its own for them). A snapshot reads their text and
// turns it into the binlog's bytes first (snapshotValue), so that both read
// the same way.

// extensionSizes are the binlog sizes of MariaDB's extension types.
var extensionSizes = map[string]int{"uuid": 16, "inet6": 16, "inet4": 4}

// extensionType is dataType when it is one of MariaDB's extension types,
// else "": what a streamed column's Column.DataType needs from the schema
// history, since the binlog cannot tell those types from BINARY(n).
func extensionType(dataType string) string {
	dataType = strings.ToLower(dataType)
	if _, ok := extensionSizes[dataType]; ok {
		return dataType
	}
	return ""
}

// extensionColumn maps a column of one of MariaDB's extension types; nil
// for another column.
func extensionColumn(c Column) *ColumnType {
	dataType := strings.ToLower(c.DataType)
	size, ok := extensionSizes[dataType]
	if !ok {
		return nil
	}
	schema := &event.Schema{Type: event.String}
	if dataType == "uuid" {
		schema = logical.UUID()
	}
	return typed(dataType, schema, func(v any) (any, error) {
		var b []byte
		switch x := v.(type) {
		case string:
			b = []byte(x)
		case []byte:
			b = x
		default:
			return nil, fmt.Errorf("unexpected %T for a %s column", v, dataType)
		}
		if len(b) > size {
			return nil, fmt.Errorf("%s value of %d bytes, want %d", dataType, len(b), size)
		}
		// The binlog drops trailing zero bytes, as of BINARY(n).
		b = append(b[:len(b):len(b)], make([]byte, size-len(b))...)
		switch dataType {
		case "uuid":
			h := hex.EncodeToString(b)
			return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
		case "inet6":
			return netip.AddrFrom16([16]byte(b)).String(), nil
		default:
			return netip.AddrFrom4([4]byte(b)).String(), nil
		}
	})
}

// extensionBytes turns the text of an extension type's value, as a snapshot
// reads it, into the bytes the binlog holds; false when the text is not
// one.
func extensionBytes(dataType, text string) ([]byte, bool) {
	if dataType == "uuid" {
		b, err := hex.DecodeString(strings.ReplaceAll(text, "-", ""))
		return b, err == nil && len(b) == 16
	}
	a, err := netip.ParseAddr(text)
	switch {
	case err != nil || (dataType == "inet4") != a.Is4():
		return nil, false
	case a.Is4():
		b := a.As4()
		return b[:], true
	}
	b := a.As16()
	return b[:], true
}

// unknownColumn maps a column whose type this mapping does not know (a
// binlog type code it has no case for, or a catalog type it cannot name in
// binlog terms) to a string of its value's text, with a warning naming the
// type, rather than failing: a new server type must not stop the connector.
func (m *Mapper) unknownColumn(c Column, typeName string) *ColumnType {
	m.log.Warn("column type has no mapping here, emitting its values as text",
		slog.String("column", c.Name), slog.String("type", typeName))
	return typed(typeName, &event.Schema{Type: event.String}, func(v any) (any, error) {
		switch x := v.(type) {
		case string:
			return bytesText([]byte(x)), nil
		case []byte:
			return bytesText(x), nil
		}
		return fmt.Sprint(v), nil
	})
}

// unknownDataType reports whether a catalog data type is one the catalog
// mapping (catalogColumn) reads as text through unknownColumn.
func unknownDataType(dataType string) bool {
	_, ext := extensionSizes[dataType]
	return dataType != "" && !ext && binlogTypes(dataType) == nil
}

// binlogStringType is the table-map type and metadata of a fixed byte
// string of n bytes, as the binlog logs BINARY(n) and the extension types.
func binlogStringType(n int) (byte, uint16) {
	return gomysql.MYSQL_TYPE_STRING, uint16(gomysql.MYSQL_TYPE_STRING)<<8 | uint16(n&0xff)
}
