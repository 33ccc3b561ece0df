package cdc

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
)

// KeyColumns is message.key.columns: the columns that form the key of
// tables without a suitable primary key, by table pattern.
type KeyColumns []struct {
	table   *regexp.Regexp
	columns []string
}

// ParseKeyColumns reads "container.table:col1,col2;container.table2:col",
// where the table part is a regular expression matched against the whole
// container.table.
func ParseKeyColumns(v string) (KeyColumns, error) {
	var out KeyColumns
	for _, part := range strings.Split(v, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		tbl, cols, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(tbl) == "" || len(conf.SplitList(cols)) == 0 {
			return nil, fmt.Errorf("invalid entry %q: want schema.table:column[,column]", part)
		}
		re, err := regexp.Compile("^(?:" + strings.TrimSpace(tbl) + ")$")
		if err != nil {
			return nil, fmt.Errorf("invalid table pattern %q: %v", tbl, err)
		}
		out = append(out, struct {
			table   *regexp.Regexp
			columns []string
		}{re, conf.SplitList(cols)})
	}
	return out, nil
}

func checkKeyColumns(v string) error {
	_, err := ParseKeyColumns(v)
	return err
}

// For returns the configured key columns of container.table, or nil.
func (k KeyColumns) For(table string) []string {
	for _, e := range k {
		if e.table.MatchString(table) {
			return e.columns
		}
	}
	return nil
}
