package cdc

import (
	"regexp"
	"slices"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
)

// Filter decides which containers (Postgres schemas, MySQL databases),
// tables and columns are captured, with Debezium's semantics: each pattern
// must match the whole identifier (container, container.table or
// container.table.column), an include list keeps only what it matches, and
// an exclude list drops what it matches. An include and an exclude list for
// the same level cannot be combined.
type Filter struct {
	system                   func(container string) bool
	containerIn, containerEx []*regexp.Regexp
	tableIn, tableEx         []*regexp.Regexp
	columnIn, columnEx       []*regexp.Regexp
}

// NewFilter compiles the lists of a parsed configuration. level names the
// container keys ("schema" reads schema.include.list, "database" reads
// database.include.list); system reports containers never captured. A
// problem names the offending key.
func NewFilter(c *conf.Config, level string, system func(container string) bool) (*Filter, error) {
	var problems conf.Problems
	lists := map[string][2][]string{}
	for _, l := range []string{level, "table", "column"} {
		in, ex := c.List(l+".include.list"), c.List(l+".exclude.list")
		if len(in) > 0 && len(ex) > 0 {
			problems = append(problems, conf.Problem{Key: l + ".exclude.list", Message: "cannot be combined with " + l + ".include.list; use one of them"})
		}
		lists[l] = [2][]string{in, ex}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &Filter{
		system:      system,
		containerIn: anchored(lists[level][0]), containerEx: anchored(lists[level][1]),
		tableIn: anchored(lists["table"][0]), tableEx: anchored(lists["table"][1]),
		columnIn: anchored(lists["column"][0]), columnEx: anchored(lists["column"][1]),
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
	if slices.ContainsFunc(ex, func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
		return false
	}
	return len(in) == 0 || slices.ContainsFunc(in, func(re *regexp.Regexp) bool { return re.MatchString(name) })
}

// Container reports whether tables of a container may be captured.
func (f *Filter) Container(container string) bool {
	return !(f.system != nil && f.system(container)) && keep(container, f.containerIn, f.containerEx)
}

// Table reports whether container.table is captured.
func (f *Filter) Table(container, table string) bool {
	return f.Container(container) && keep(container+"."+table, f.tableIn, f.tableEx)
}

// Column reports whether a column of a captured table is kept in events.
func (f *Filter) Column(container, table, column string) bool {
	return keep(container+"."+table+"."+column, f.columnIn, f.columnEx)
}
