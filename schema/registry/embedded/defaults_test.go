package embedded

import (
	"strconv"
	"testing"
)

// TestByteDefaultsKeepTheirValue checks that defaults of bytes and fixed values are stored as
// Avro writes them (a string, one code point a byte), wherever they are nested: as written,
// the stored text parses again to the same schema and the same text.
func TestByteDefaultsKeepTheirValue(t *testing.T) {
	cases := []struct{ name, schema, want string }{
		{"bytes",
			`{"type":"record","name":"R","fields":[{"name":"b","type":"bytes","default":"\u00ff<&"}]}`,
			`{"name":"R","type":"record","fields":[{"name":"b","type":"bytes","default":"ÿ\u003c\u0026"}]}`},
		{"decimal bytes",
			`{"type":"record","name":"R","fields":[{"name":"b","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2},"default":"\u0001"}]}`,
			`{"name":"R","type":"record","fields":[{"name":"b","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2},"default":"\u0001"}]}`},
		{"fixed, defined and referenced",
			`{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":2},"default":"ab"},{"name":"g","type":"F","default":"\u0000\u00e9"}]}`,
			`{"name":"R","type":"record","fields":[{"name":"f","type":{"name":"F","type":"fixed","size":2},"default":"ab"},{"name":"g","type":"F","default":"\u0000é"}]}`},
		{"union of bytes first",
			`{"type":"record","name":"R","fields":[{"name":"u","type":["bytes","null"],"default":"xy"}]}`,
			`{"name":"R","type":"record","fields":[{"name":"u","type":["bytes","null"],"default":"xy"}]}`},
		{"array of bytes",
			`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"bytes"},"default":["a","\u00e9"]}]}`,
			`{"name":"R","type":"record","fields":[{"name":"a","type":{"type":"array","items":"bytes"},"default":["a","é"]}]}`},
		{"map of fixed",
			`{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":{"type":"fixed","name":"F","size":1}},"default":{"k":"z"}}]}`,
			`{"name":"R","type":"record","fields":[{"name":"m","type":{"type":"map","values":{"name":"F","type":"fixed","size":1}},"default":{"k":"z"}}]}`},
		{"nested records",
			`{"type":"record","name":"R","fields":[{"name":"x","type":{"type":"array","items":{"type":"record","name":"S","fields":[{"name":"b","type":"bytes","default":"in"}]}},"default":[{"b":"v"}]},{"name":"s","type":"S","default":{"b":"y"}}]}`,
			`{"name":"R","type":"record","fields":[{"name":"x","type":{"type":"array","items":{"name":"S","type":"record","fields":[{"name":"b","type":"bytes","default":"in"}]}},"default":[{"b":"v"}]},{"name":"s","type":"S","default":{"b":"y"}}]}`},
		{"other defaults untouched",
			`{"type":"record","name":"R","fields":[{"name":"i","type":"int","default":1,"doc":"<b>","x":{"y":"\u00ff"}},{"name":"s","type":["null","string"],"default":null}]}`,
			`{"name":"R","type":"record","fields":[{"name":"i","doc":"\u003cb\u003e","type":"int","default":1,"x":{"y":"ÿ"}},{"name":"s","type":["null","string"],"default":null}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got, err := parseAvro(c.schema)
			if err != nil {
				t.Fatalf("parseAvro: %v", err)
			}
			if got != c.want {
				t.Errorf("normalized\n got %s\nwant %s", got, c.want)
			}
			if _, again, err := parseAvro(got); err != nil || again != got {
				t.Errorf("normalizing the stored text again = %s, %v; want it unchanged", again, err)
			}
		})
	}
}

// TestFixedDefaultDoesNotBreakTheSubject registers a schema with a fixed default and then a
// second version: checking compatibility parses the stored first version, which has to parse.
func TestFixedDefaultDoesNotBreakTheSubject(t *testing.T) {
	_, srv := startRegistry(t, backends[0].brokers(t), "_schemas")
	v1 := `{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":2},"default":"ab"}]}`
	v2 := `{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":2},"default":"ab"},{"name":"g","type":"int","default":0}]}`
	runSteps(t, srv, []step{
		{"POST", "/subjects/s/versions", body(v1), 200, `{"id":1}`},
		{"GET", "/subjects/s/versions/1/schema", "", 200, `{"name":"R","type":"record","fields":[{"name":"f","type":{"name":"F","type":"fixed","size":2},"default":"ab"}]}`},
		{"POST", "/compatibility/subjects/s/versions/latest", body(v2), 200, `{"is_compatible":true}`},
		{"POST", "/subjects/s/versions", body(v2), 200, `{"id":2}`},
		{"GET", "/subjects/s/versions/2", "", 200, `{"subject":"s","version":2,"id":2,"schema":` +
			strconv.Quote(`{"name":"R","type":"record","fields":[{"name":"f","type":{"name":"F","type":"fixed","size":2},"default":"ab"},{"name":"g","type":"int","default":0}]}`) + `}`},
	})
}
