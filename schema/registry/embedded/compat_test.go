package embedded

import (
	"strings"
	"testing"
)

// rec builds a record schema named acme.R with the given fields JSON.
func rec(fields string) string {
	return `{"type":"record","name":"R","namespace":"acme","fields":[` + fields + `]}`
}

const (
	fA        = `{"name":"a","type":"string"}`
	fBDefault = `{"name":"b","type":"string","default":"x"}`
	fBNone    = `{"name":"b","type":"string"}`
)

// TestCompatibilityRules checks answers against Confluent's documented rules for Avro
// (schema evolution and compatibility): olds are the registered versions in order, the
// candidate is the schema being registered, and each level's answer is checked.
func TestCompatibilityRules(t *testing.T) {
	type answers map[Level]bool
	cases := []struct {
		name      string
		olds      []string
		candidate string
		want      answers
	}{
		{"add optional field with default", []string{rec(fA)}, rec(fA + "," + fBDefault),
			answers{LevelBackward: true, LevelForward: true, LevelFull: true, LevelNone: true}},
		{"add field without default", []string{rec(fA)}, rec(fA + "," + fBNone),
			answers{LevelBackward: false, LevelForward: true, LevelFull: false, LevelNone: true}},
		{"remove field with default", []string{rec(fA + "," + fBDefault)}, rec(fA),
			answers{LevelBackward: true, LevelForward: true, LevelFull: true}},
		{"remove field without default", []string{rec(fA + "," + fBNone)}, rec(fA),
			answers{LevelBackward: true, LevelForward: false, LevelFull: false}},
		{"rename field with alias", []string{rec(fA + "," + fBNone)}, rec(fA + `,{"name":"c","type":"string","aliases":["b"]}`),
			answers{LevelBackward: true, LevelForward: false, LevelFull: false}},
		{"rename field with alias and default", []string{rec(fA + "," + fBDefault)}, rec(fA + `,{"name":"c","type":"string","aliases":["b"],"default":"y"}`),
			answers{LevelBackward: true, LevelForward: true, LevelFull: true}},
		{"rename field without alias", []string{rec(fA + "," + fBNone)}, rec(fA + `,{"name":"c","type":"string"}`),
			answers{LevelBackward: false, LevelForward: false}},
		{"rename record with alias", []string{rec(fA)}, `{"type":"record","name":"S","namespace":"acme","aliases":["acme.R"],"fields":[` + fA + `]}`,
			answers{LevelBackward: true, LevelForward: false}},
		{"promote int to long", []string{rec(`{"name":"n","type":"int"}`)}, rec(`{"name":"n","type":"long"}`),
			answers{LevelBackward: true, LevelForward: false, LevelFull: false}},
		{"promote int to double, float to double", []string{rec(`{"name":"n","type":"int"},{"name":"f","type":"float"}`)}, rec(`{"name":"n","type":"double"},{"name":"f","type":"double"}`),
			answers{LevelBackward: true, LevelForward: false}},
		{"demote long to int", []string{rec(`{"name":"n","type":"long"}`)}, rec(`{"name":"n","type":"int"}`),
			answers{LevelBackward: false, LevelForward: true}},
		{"string to bytes", []string{rec(`{"name":"s","type":"string"}`)}, rec(`{"name":"s","type":"bytes"}`),
			answers{LevelBackward: true, LevelForward: true, LevelFull: true}},
		{"change type string to int", []string{rec(`{"name":"s","type":"string"}`)}, rec(`{"name":"s","type":"int"}`),
			answers{LevelBackward: false, LevelForward: false, LevelNone: true}},
		{"enum symbol added", []string{rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}`)}, rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}`),
			answers{LevelBackward: true, LevelForward: false, LevelFull: false}},
		{"enum symbol added, old enum has default", []string{rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}}`)}, rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"],"default":"A"}}`),
			answers{LevelBackward: true, LevelForward: true, LevelFull: true}},
		{"enum symbol removed", []string{rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}`)}, rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}`),
			answers{LevelBackward: false, LevelForward: true}},
		{"field made nullable without default", []string{rec(fA)}, rec(`{"name":"a","type":["null","string"]}`),
			answers{LevelBackward: true, LevelForward: false}},
		{"nullable field added without default", []string{rec(fA)}, rec(fA + `,{"name":"n","type":["null","string"]}`),
			answers{LevelBackward: false, LevelForward: true}},
		{"nullable field added without default, nested in an array's records",
			[]string{rec(`{"name":"l","type":{"type":"array","items":{"type":"record","name":"I","fields":[` + fA + `]}}}`)},
			rec(`{"name":"l","type":{"type":"array","items":{"type":"record","name":"I","fields":[` + fA + `,{"name":"n","type":["null","string"]}]}}}`),
			answers{LevelBackward: false, LevelForward: true}},
		{"nullable field added with a null default", []string{rec(fA)}, rec(fA + `,{"name":"n","type":["null","string"],"default":null}`),
			answers{LevelBackward: true, LevelForward: true, LevelFull: true}},
		{"record name changed", []string{rec(fA)}, `{"type":"record","name":"S","namespace":"acme","fields":[` + fA + `]}`,
			answers{LevelBackward: false, LevelForward: false, LevelNone: true}},
		// Three versions: v3 drops b's default. v3 reads v2 data (which has b), not v1 data.
		{"transitive vs latest only (backward)", []string{rec(fA), rec(fA + "," + fBDefault)}, rec(fA + "," + fBNone),
			answers{LevelBackward: true, LevelBackwardTransitive: false, LevelFull: true, LevelFullTransitive: false}},
		// v1 has b without default, v2 gives it a default, v3 removes it: v2 reads v3 data, v1 does not.
		{"transitive vs latest only (forward)", []string{rec(fA + "," + fBNone), rec(fA + "," + fBDefault)}, rec(fA),
			answers{LevelForward: true, LevelForwardTransitive: false, LevelFullTransitive: false}},
		{"transitive, all compatible", []string{rec(fA), rec(fA + "," + fBDefault)}, rec(fA + "," + fBDefault + `,{"name":"c","type":"int","default":0}`),
			answers{LevelBackwardTransitive: true, LevelForwardTransitive: true, LevelFullTransitive: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cand, _, err := parseAvro(c.candidate)
			if err != nil {
				t.Fatalf("parse candidate: %v", err)
			}
			var olds []previous
			for i, o := range c.olds {
				s, text, err := parseAvro(o)
				if err != nil {
					t.Fatalf("parse version %d: %v", i+1, err)
				}
				olds = append(olds, previous{version: i + 1, schema: s, text: text})
			}
			for level, want := range c.want {
				msgs := checkCompatibility(level, cand, olds)
				if got := msgs == nil; got != want {
					t.Errorf("%s: compatible = %v, want %v (%s)", level, got, want, strings.Join(msgs, "; "))
				}
			}
		})
	}
}

func TestCompatibilityMessages(t *testing.T) {
	olds := []previous{}
	for i, o := range []string{rec(fA), rec(fA + "," + fBDefault)} {
		s, text, _ := parseAvro(o)
		olds = append(olds, previous{version: i + 1, schema: s, text: text})
	}
	cand, _, _ := parseAvro(rec(fA + "," + fBNone))
	got := checkCompatibility(LevelFullTransitive, cand, olds)
	want := []string{
		"the new schema cannot read data written with version 1: avro: incompatible at b: reader string vs writer : reader field has no default and is missing from writer",
		"{oldSchemaVersion: 1}",
		`{oldSchema: '{"fields":[{"name":"a","type":"string"}],"name":"R","namespace":"acme","type":"record"}'}`,
		"{compatibility: 'FULL_TRANSITIVE'}",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages:\n got %q\nwant %q", got, want)
	}
}
