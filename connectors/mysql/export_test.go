package mysql

// The type test fixtures, for the tests of package mysql_test.
var (
	TypesTableSQL  = typesTableSQL
	TypesInsertSQL = typesInsertSQL
	WantTypesRows  = wantMySQLRows
	EqualValues    = equalMy
)
