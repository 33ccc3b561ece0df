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
			`{"fields":[{"default":"ÿ\u003c\u0026","name":"b","type":"bytes"}],"name":"R","type":"record"}`},
		{"decimal bytes",
			`{"type":"record","name":"R","fields":[{"name":"b","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2},"default":"\u0001"}]}`,
			`{"fields":[{"default":"\u0001","name":"b","type":{"logicalType":"decimal","precision":4,"scale":2,"type":"bytes"}}],"name":"R","type":"record"}`},
		{"fixed, defined and referenced",
			`{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":2},"default":"ab"},{"name":"g","type":"F","default":"\u0000\u00e9"}]}`,
			`{"fields":[{"default":"ab","name":"f","type":{"name":"F","size":2,"type":"fixed"}},{"default":"\u0000é","name":"g","type":"F"}],"name":"R","type":"record"}`},
		{"union of bytes first",
			`{"type":"record","name":"R","fields":[{"name":"u","type":["bytes","null"],"default":"xy"}]}`,
			`{"fields":[{"default":"xy","name":"u","type":["bytes","null"]}],"name":"R","type":"record"}`},
		{"array of bytes",
			`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"bytes"},"default":["a","\u00e9"]}]}`,
			`{"fields":[{"default":["a","é"],"name":"a","type":{"items":"bytes","type":"array"}}],"name":"R","type":"record"}`},
		{"map of fixed",
			`{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":{"type":"fixed","name":"F","size":1}},"default":{"k":"z"}}]}`,
			`{"fields":[{"default":{"k":"z"},"name":"m","type":{"type":"map","values":{"name":"F","size":1,"type":"fixed"}}}],"name":"R","type":"record"}`},
		{"nested records",
			`{"type":"record","name":"R","fields":[{"name":"x","type":{"type":"array","items":{"type":"record","name":"S","fields":[{"name":"b","type":"bytes","default":"in"}]}},"default":[{"b":"v"}]},{"name":"s","type":"S","default":{"b":"y"}}]}`,
			`{"fields":[{"default":[{"b":"v"}],"name":"x","type":{"items":{"fields":[{"default":"in","name":"b","type":"bytes"}],"name":"S","type":"record"},"type":"array"}},{"default":{"b":"y"},"name":"s","type":"S"}],"name":"R","type":"record"}`},
		{"other defaults untouched",
			`{"type":"record","name":"R","fields":[{"name":"i","type":"int","default":1,"doc":"<b>","x":{"y":"\u00ff"}},{"name":"s","type":["null","string"],"default":null}]}`,
			`{"fields":[{"default":1,"doc":"\u003cb\u003e","name":"i","type":"int","x":{"y":"ÿ"}},{"default":null,"name":"s","type":["null","string"]}],"name":"R","type":"record"}`},
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
		{"GET", "/subjects/s/versions/1/schema", "", 200, `{"fields":[{"default":"ab","name":"f","type":{"name":"F","size":2,"type":"fixed"}}],"name":"R","type":"record"}`},
		{"POST", "/compatibility/subjects/s/versions/latest", body(v2), 200, `{"is_compatible":true}`},
		{"POST", "/subjects/s/versions", body(v2), 200, `{"id":2}`},
		{"GET", "/subjects/s/versions/2", "", 200, `{"subject":"s","version":2,"id":2,"schema":` +
			strconv.Quote(`{"fields":[{"default":"ab","name":"f","type":{"name":"F","size":2,"type":"fixed"}},{"default":0,"name":"g","type":"int"}],"name":"R","type":"record"}`) + `}`},
	})
}
