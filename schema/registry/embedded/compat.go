package embedded

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
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
	schema  avro.Schema
	text    string
}

// checkCompatibility checks candidate against the given registered versions (ascending) under
// level, with Avro's schema-resolution rules: BACKWARD means the candidate can read data
// written with a previous version, FORWARD that a previous version can read data written with
// the candidate, FULL both. Non-transitive levels check only the last of olds. It returns
// nil when compatible, otherwise one message per failed check followed by Confluent-style
// context entries ({oldSchemaVersion: …}, {oldSchema: '…'}, {compatibility: '…'}).
//
// Safe for concurrent use: every call uses its own resolution memo.
func checkCompatibility(level Level, candidate avro.Schema, olds []previous) []string {
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
			// A fresh SchemaCompatibility per check: its memo is not safe to share between
			// goroutines (an in-progress entry reads as "compatible" to another caller).
			if err := avro.NewSchemaCompatibility().Compatible(candidate, old.schema); err != nil {
				msgs = append(msgs, fmt.Sprintf("the new schema cannot read data written with version %d: %v", old.version, err))
			}
		}
		if level.forward() {
			if err := avro.NewSchemaCompatibility().Compatible(old.schema, candidate); err != nil {
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
