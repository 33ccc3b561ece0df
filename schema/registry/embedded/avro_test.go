package embedded

import "testing"

// TestNamesNormalizeToOneText checks that one schema whose names are written in different
// ways (a dotted name or a namespace, references short or full) has one normalized text, as
// Confluent's registry treats it as one schema.
func TestNamesNormalizeToOneText(t *testing.T) {
	const want = `{"fields":[{"name":"a","type":{"fields":[],"name":"A","type":"record"}},{"name":"b","type":"acme.A"},` +
		`{"name":"c","type":{"name":"E","namespace":"x","symbols":["Q"],"type":"enum"}},{"name":"d","type":"x.E"}],"name":"User","namespace":"acme","type":"record"}`
	for _, schema := range []string{
		`{"type":"record","name":"User","namespace":"acme","fields":[{"name":"a","type":{"type":"record","name":"A","fields":[]}},{"name":"b","type":"A"},{"name":"c","type":{"type":"enum","name":"x.E","symbols":["Q"]}},{"name":"d","type":"x.E"}]}`,
		`{"type":"record","name":"acme.User","fields":[{"name":"a","type":{"type":"record","name":"acme.A","fields":[]}},{"name":"b","type":"acme.A"},{"name":"c","type":{"type":"enum","name":"E","namespace":"x","symbols":["Q"]}},{"name":"d","type":"x.E"}]}`,
		want,
	} {
		_, got, err := parseAvro(schema)
		if err != nil {
			t.Fatalf("parseAvro(%s): %v", schema, err)
		}
		if got != want {
			t.Errorf("parseAvro(%s)\n got %s\nwant %s", schema, got, want)
		}
	}
}
