package postgres

// Exports for the external tests of this package, which run the source end
// to end over the table the type tests fill.
var (
	TypesSchemaSQL = typesSchemaSQL
	CheckTypesRow  = checkRow
)

// Rejected is the text every column of this package's test binaries
// refuses to convert, in-process and in child processes alike.
const Rejected = "sluice:rejected"

func init() { rejected = Rejected }
