package postgres

import (
	"regexp"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
)

// Filter decides which schemas, tables and columns are captured, with
// Debezium's semantics: each pattern must match the whole identifier
// (schema, schema.table or schema.table.column), an include list keeps only
// what it matches, and an exclude list drops what it matches. An include and
// an exclude list for the same level cannot be combined.
type Filter struct {
	schemaIn, schemaEx []*regexp.Regexp
	tableIn, tableEx   []*regexp.Regexp
	columnIn, columnEx []*regexp.Regexp
}

// NewFilter compiles the six lists; a problem names the offending key.
func NewFilter(schemaIn, schemaEx, tableIn, tableEx, columnIn, columnEx []string) (*Filter, error) {
	var problems conf.Problems
	both := func(level string, in, ex []string) {
		if len(in) > 0 && len(ex) > 0 {
			problems = append(problems, conf.Problem{Key: level + ".exclude.list", Message: "cannot be combined with " + level + ".include.list; use one of them"})
		}
	}
	both("schema", schemaIn, schemaEx)
	both("table", tableIn, tableEx)
	both("column", columnIn, columnEx)
	if len(problems) > 0 {
		return nil, problems
	}
	return &Filter{
		schemaIn: anchored(schemaIn), schemaEx: anchored(schemaEx),
		tableIn: anchored(tableIn), tableEx: anchored(tableEx),
		columnIn: anchored(columnIn), columnEx: anchored(columnEx),
	}, nil
}

// anchored compiles patterns already checked by conf.RegexList so that each
// must match a whole identifier.
func anchored(patterns []string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		out[i] = regexp.MustCompile("^(?:" + strings.TrimSpace(p) + ")$")
	}
	return out
}

func keep(name string, in, ex []*regexp.Regexp) bool {
	for _, re := range ex {
		if re.MatchString(name) {
			return false
		}
	}
	if len(in) == 0 {
		return true
	}
	for _, re := range in {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// Table reports whether schema.table is captured. System schemas never are.
func (f *Filter) Table(schema, table string) bool {
	if schema == "pg_catalog" || schema == "information_schema" || strings.HasPrefix(schema, "pg_toast") {
		return false
	}
	return keep(schema, f.schemaIn, f.schemaEx) && keep(schema+"."+table, f.tableIn, f.tableEx)
}

// Column reports whether a column of a captured table is kept in events.
func (f *Filter) Column(schema, table, column string) bool {
	return keep(schema+"."+table+"."+column, f.columnIn, f.columnEx)
}
