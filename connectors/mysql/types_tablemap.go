package mysql

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/replication"
)

// ColumnsFromTableMap describes the columns of a TableMapEvent. It needs the
// full row metadata MySQL 8.0.1+ and MariaDB 10.5+ log with
// binlog_row_metadata=FULL, and fails naming the table without it.
// DataType is left empty; callers that read information_schema may set it.
func ColumnsFromTableMap(tme *replication.TableMapEvent) ([]Column, error) {
	n := int(tme.ColumnCount)
	if len(tme.ColumnName) != n {
		return nil, fmt.Errorf("table map of %s.%s has no column names: the server must run with binlog_row_metadata=FULL",
			tme.Schema, tme.Table)
	}
	unsigned := tme.UnsignedMap()
	collations := tme.CollationMap()
	enumSetCollations := tme.EnumSetCollationMap()
	enums := tme.EnumStrValueMap()
	sets := tme.SetStrValueMap()
	names := tme.ColumnNameString()
	cols := make([]Column, n)
	for i := range cols {
		_, nullable := tme.Nullable(i)
		c := Column{
			Name:       names[i],
			Type:       tme.ColumnType[i],
			Meta:       tme.ColumnMeta[i],
			Unsigned:   unsigned[i],
			Nullable:   nullable,
			Collation:  collations[i],
			EnumValues: enums[i],
			SetValues:  sets[i],
		}
		if tme.IsEnumOrSetColumn(i) {
			c.Collation = enumSetCollations[i]
		}
		cols[i] = c
	}
	return cols, nil
}
