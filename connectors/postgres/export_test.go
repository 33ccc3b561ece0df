package postgres

// Exports for the external tests of this package, which run the source end
// to end over the table the type tests fill.
var (
	TypesSchemaSQL = typesSchemaSQL
	CheckTypesRow  = checkRow
)
