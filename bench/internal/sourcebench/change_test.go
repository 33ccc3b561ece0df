package sourcebench

import (
	"errors"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
)

// A Debezium 3.6 Postgres update as JsonConverter writes it with schemas
// (the schema shortened): the payload's own ts_ms, when the connector
// handled the change, is later than source.ts_ms, the commit.
const debeziumUpdate = `{"schema":{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},` +
	`{"type":"int32","optional":false,"field":"b"}],"optional":true,"name":"p.public.rows.Value","field":"before"}],"optional":false,"name":"p.public.rows.Envelope","version":2},` +
	`"payload":{"before":null,"after":{"id":200017,"a":7,"b":41,"c":9,"d":3,"ts":"2026-12-04T12:32:22.513Z","txt":"lorem ipsum"},` +
	`"source":{"version":"3.6.1.Final","connector":"postgresql","name":"p","ts_ms":1796387542513,"snapshot":"false","db":"bench","sequence":"[\"0/383E6980\",\"0/383E6A10\"]",` +
	`"ts_us":1796387542513201,"ts_ns":1796387542513201000,"schema":"public","table":"rows","txId":771,"lsn":943614480,"xmin":null},` +
	`"transaction":null,"op":"u","ts_ms":1796387542901,"ts_us":1796387542901077,"ts_ns":1796387542901077338}}`

func TestParseJSONReadsTheCommitTimeAndKeys(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  Change
	}{
		{"Debezium update, with schemas: source.ts_ms, not the payload's ts_ms", debeziumUpdate,
			Change{Op: event.OpUpdate, TsMillis: 1796387542513, ID: 200017, B: 41}},
		{"insert without schemas", `{"before":null,"after":{"id":5,"b":0},"source":{"ts_ms":1700000000001},"op":"c","ts_ms":1700000000009}`,
			Change{Op: event.OpCreate, TsMillis: 1700000000001, ID: 5}},
		{"delete: the old row's id", `{"schema":{"type":"struct"},"payload":{"before":{"id":12,"b":7},"after":null,"source":{"ts_ms":1700000000002},"op":"d"}}`,
			Change{Op: event.OpDelete, TsMillis: 1700000000002, ID: 12}},
		{"delete with the key alone (REPLICA IDENTITY DEFAULT)", `{"payload":{"before":{"id":13,"b":0,"txt":null},"after":null,"source":{"ts_ms":1700000000003},"op":"d"}}`,
			Change{Op: event.OpDelete, TsMillis: 1700000000003, ID: 13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Change{Op: 'x', TsMillis: 1, ID: 2, B: 3} // overwritten entirely
			if err := ParseJSON([]byte(tt.value), &c); err != nil {
				t.Fatal(err)
			}
			if c != tt.want {
				t.Errorf("got %+v, want %+v", c, tt.want)
			}
		})
	}
}

func TestParseJSONRefusesWhatIsNotAChange(t *testing.T) {
	for _, value := range []string{`{"schema":{"type":"struct"},"payload":{"id":1}}`, `{"op":"cu"}`, `not json`} {
		var c Change
		if err := ParseJSON([]byte(value), &c); err == nil {
			t.Errorf("ParseJSON(%s) = %+v, want an error", value, c)
		}
	}
}

func TestAvroColumnsTakeIDAndBByName(t *testing.T) {
	row := &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "b"}, {Name: "txt"}, {Name: "id"}}}
	envelope := &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "before", Schema: row}, {Name: "after", Schema: row}}}
	var cols avroColumns
	var c Change
	ev := &event.Event{Op: event.OpUpdate, Before: event.Row{int32(1), "x", int64(40)}, After: event.Row{int32(2), "y", int64(40)}}
	if err := cols.change(ev, envelope, &c); err != nil {
		t.Fatal(err)
	}
	if want := (Change{Op: event.OpUpdate, ID: 40, B: 2}); c != want {
		t.Errorf("update: got %+v, want %+v", c, want)
	}
	del := &event.Event{Op: event.OpDelete, Before: event.Row{nil, nil, int64(41)}}
	if err := cols.change(del, envelope, &c); err != nil {
		t.Fatal(err)
	}
	if want := (Change{Op: event.OpDelete, ID: 41}); c != want {
		t.Errorf("delete: got %+v, want %+v", c, want)
	}
	other := &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "after", Schema: &event.Schema{Type: event.Struct, Fields: []event.Field{{Name: "key"}}}}}}
	if err := cols.change(ev, other, &c); err == nil {
		t.Error("an envelope without id and b: want an error")
	}
}

func TestEveryChecksAtMostOncePerInterval(t *testing.T) {
	calls := 0
	fail := errors.New("failed")
	check := every(time.Hour, func() error {
		calls++
		if calls == 1 {
			return fail
		}
		return nil
	})
	for range 3 {
		if err := check(); !errors.Is(err, fail) {
			t.Errorf("check() = %v, want the first call's error until an hour has passed", err)
		}
	}
	if calls != 1 {
		t.Errorf("%d calls within the interval, want 1", calls)
	}
}
