package embedded

import (
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/avro"
)

// Level is a compatibility level as Confluent names it.
type Level string

// The compatibility levels. BACKWARD is the default, as in Confluent's registry.
const (
	LevelNone               Level = "NONE"
	LevelBackward           Level = "BACKWARD"
	LevelBackwardTransitive Level = "BACKWARD_TRANSITIVE"
	LevelForward            Level = "FORWARD"
	LevelForwardTransitive  Level = "FORWARD_TRANSITIVE"
	LevelFull               Level = "FULL"
	LevelFullTransitive     Level = "FULL_TRANSITIVE"
)

// parseLevel accepts a level name in any letter case, as Confluent does.
func parseLevel(s string) (Level, bool) {
	l := Level(strings.ToUpper(s))
	switch l {
	case LevelNone, LevelBackward, LevelBackwardTransitive, LevelForward,
		LevelForwardTransitive, LevelFull, LevelFullTransitive:
		return l, true
	}
	return "", false
}

func (l Level) backward() bool {
	return l == LevelBackward || l == LevelBackwardTransitive || l == LevelFull || l == LevelFullTransitive
}

func (l Level) forward() bool {
	return l == LevelForward || l == LevelForwardTransitive || l == LevelFull || l == LevelFullTransitive
}

func (l Level) transitive() bool {
	return l == LevelBackwardTransitive || l == LevelForwardTransitive || l == LevelFullTransitive
}

// previous is a registered version a new schema is checked against.
type previous struct {
	version int
	schema  *avro.Schema
	text    string
}

// checkCompatibility checks candidate against the given registered versions (ascending) under
// level, with Avro's schema-resolution rules: BACKWARD means the candidate can read data
// written with a previous version, FORWARD that a previous version can read data written with
// the candidate, FULL both. Non-transitive levels check only the last of olds. It returns
// nil when compatible, otherwise one message per failed check followed by Confluent-style
// context entries ({oldSchemaVersion: …}, {oldSchema: '…'}, {compatibility: '…'}).
func checkCompatibility(level Level, candidate *avro.Schema, olds []previous) []string {
	if level == LevelNone || len(olds) == 0 {
		return nil
	}
	if !level.transitive() {
		olds = olds[len(olds)-1:]
	}
	// Newest first, as Confluent reports the most recent conflict.
	for i := len(olds) - 1; i >= 0; i-- {
		old := olds[i]
		var msgs []string
		if level.backward() {
			if err := canRead(candidate, old.schema); err != nil {
				msgs = append(msgs, fmt.Sprintf("the new schema cannot read data written with version %d: %v", old.version, err))
			}
		}
		if level.forward() {
			if err := canRead(old.schema, candidate); err != nil {
				msgs = append(msgs, fmt.Sprintf("version %d cannot read data written with the new schema: %v", old.version, err))
			}
		}
		if msgs != nil {
			return append(msgs,
				fmt.Sprintf("{oldSchemaVersion: %d}", old.version),
				fmt.Sprintf("{oldSchema: '%s'}", old.text),
				fmt.Sprintf("{compatibility: '%s'}", level))
		}
	}
	return nil
}

// canRead reports whether reader can read data written with writer, by Java Avro's rules,
// which Confluent's registry and every Java consumer apply: a reader field that the writer
// lacks needs a default written in the schema. twmb/avro also lets a field whose type is a
// union starting with null default to null without one, so the check runs on a copy of reader
// in which such fields' null branch comes last; the order of a union's branches plays no other
// part in resolution.
func canRead(reader, writer *avro.Schema) error {
	root := reader.Root()
	if nullFirstWithoutDefault(root) {
		strict, err := root.Schema()
		if err != nil {
			return err
		}
		reader = strict
	}
	return avro.CheckCompatibility(writer, reader)
}

// nullFirstWithoutDefault moves the null branch to the end of every union-typed record field
// of n that has no default and whose union starts with null, and reports whether it moved any.
func nullFirstWithoutDefault(n *avro.SchemaNode) bool {
	moved := false
	for i := range n.Fields {
		f := &n.Fields[i]
		if b := f.Type.Branches; (n.Type == "record" || n.Type == "error") && !f.HasDefault && f.Type.Type == "union" && len(b) > 1 && b[0].Type == "null" {
			f.Type.Branches = append(slices.Clone(b[1:]), b[0])
			moved = true
		}
	}
	forEachChild(n, func(c *avro.SchemaNode) { moved = nullFirstWithoutDefault(c) || moved })
	return moved
}
