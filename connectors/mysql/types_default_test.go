package mysql

import (
	"reflect"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// A literal default becomes the schema's default in the column's own Go
// form; NULL, expressions and literals the column does not take give none.
func TestColumnDefaults(t *testing.T) {
	utf8 := uint64(45)
	cases := []struct {
		name string
		col  Column
		def  string
		want any
	}{
		{"int", Column{Type: gomysql.MYSQL_TYPE_LONG}, "5", int32(5)},
		{"negative bigint", Column{Type: gomysql.MYSQL_TYPE_LONGLONG}, "-7", int64(-7)},
		{"quoted int", Column{Type: gomysql.MYSQL_TYPE_LONG}, "'12'", int32(12)},
		{"tinyint unsigned", Column{Type: gomysql.MYSQL_TYPE_TINY, Unsigned: true}, "200", int16(200)},
		{"double", Column{Type: gomysql.MYSQL_TYPE_DOUBLE}, "1.5", 1.5},
		{"decimal", Column{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2}, "3.10", udec("3.10")},
		{"varchar", Column{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 80, Collation: utf8}, "'it''s'", "it's"},
		{"varchar with a backslash escape", Column{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 80, Collation: utf8}, `'a\'b'`, "a'b"},
		{"date", Column{Type: gomysql.MYSQL_TYPE_DATE}, "'2020-01-02'", int32(18263)},
		{"NULL", Column{Type: gomysql.MYSQL_TYPE_LONG, Nullable: true}, "NULL", nil},
		{"an expression", Column{Type: gomysql.MYSQL_TYPE_TIMESTAMP2}, "current_timestamp()", nil},
		{"a string in an int column", Column{Type: gomysql.MYSQL_TYPE_LONG}, "'x'", nil},
		{"an unbalanced quote", Column{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 80, Collation: utf8}, "'a'b'", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.col.Name, tc.col.Default = "c", &tc.def
			ct, err := NewMapper().Column(tc.col)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ct.Schema.Default, tc.want) {
				t.Fatalf("default of %s: %#v, want %#v", tc.def, ct.Schema.Default, tc.want)
			}
		})
	}
}
