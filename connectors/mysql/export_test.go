package mysql

import (
	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// The type test fixtures, for the tests of package mysql_test.
var (
	TypesTableSQL  = typesTableSQL
	TypesInsertSQL = typesInsertSQL
	WantTypesRows  = wantMySQLRows
	EqualValues    = equalMy
)

// Rejected is the text every column of this package's test binaries
// refuses to convert, in-process and in child processes alike.
const Rejected = "sluice:rejected"

func init() { rejected = Rejected }

// NewWithoutRowMetadata builds a source that strips from every table map
// what a server logging binlog_row_metadata=NO_LOG leaves out, so that rows
// are decoded by the schema history.
func NewWithoutRowMetadata(c *conf.Config, env connectors.Env) (connectors.Source, error) {
	cfg, err := ParseConfig(c)
	if err != nil {
		return nil, err
	}
	s := New(cfg, env)
	s.stripMetadata = true
	return s, nil
}
