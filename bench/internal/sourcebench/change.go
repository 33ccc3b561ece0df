package sourcebench

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
)

// A Change is what the steady latencies take from a change record of the
// benchmark table (rowgen's: id, b, …), whatever wrote it: the operation,
// the source's commit time (source.ts_ms), the row's id (the new row's,
// or for a delete the old one's) and the new row's b. A column the record
// lacks is 0.
type Change struct {
	Op       event.Op
	TsMillis int64
	ID, B    int64
}

// CommitTime returns the commit time, in Unix ms, of the change c, or an
// error for a record the load did not make. It must not keep c.
type CommitTime func(c *Change) (int64, error)

// jsonChange is the payload of a change record written by Kafka Connect's
// JsonConverter (Debezium's, or sluice's with value.converter set to it).
type jsonChange struct {
	Op     string `json:"op"`
	Source struct {
		TsMillis int64 `json:"ts_ms"`
	} `json:"source"`
	Before *jsonRow `json:"before"`
	After  *jsonRow `json:"after"`
}

type jsonRow struct {
	ID int64 `json:"id"`
	B  int64 `json:"b"`
}

// ParseJSON reads the change record value written by JsonConverter into
// c: with schemas ({"schema":…,"payload":{…}}) or without (the payload
// alone).
func ParseJSON(value []byte, c *Change) error {
	var v struct {
		Payload *jsonChange `json:"payload"`
		jsonChange
	}
	if err := json.Unmarshal(value, &v); err != nil {
		return fmt.Errorf("decode JSON change: %w", err)
	}
	p := &v.jsonChange
	if v.Payload != nil {
		p = v.Payload
	}
	if len(p.Op) != 1 {
		return fmt.Errorf("not a change record: op %q", p.Op)
	}
	*c = Change{Op: event.Op(p.Op[0]), TsMillis: p.Source.TsMillis}
	row := p.After
	if c.Op == event.OpDelete {
		row = p.Before
	}
	if row != nil {
		c.ID = row.ID
	}
	if p.After != nil {
		c.B = p.After.B
	}
	return nil
}

// avroColumns reads Changes out of decoded Avro change events, finding the
// id and b columns in each new envelope schema.
type avroColumns struct {
	envelope   *event.Schema
	id, b      int // their indexes in the row, -1 when absent
	errMissing error
}

// change fills c from the event ev of envelope schema envelope.
func (a *avroColumns) change(ev *event.Event, envelope *event.Schema, c *Change) error {
	if envelope != a.envelope {
		a.envelope, a.id, a.b = envelope, -1, -1
		if i := envelope.FieldIndex("after"); i >= 0 {
			row := envelope.Fields[i].Schema
			a.id, a.b = row.FieldIndex("id"), row.FieldIndex("b")
		}
		a.errMissing = nil
		if a.id < 0 || a.b < 0 {
			a.errMissing = errors.New("change records without an id or b column")
		}
	}
	if a.errMissing != nil {
		return a.errMissing
	}
	*c = Change{Op: ev.Op, TsMillis: ev.Source.TsMillis()}
	row := ev.After
	if ev.Op == event.OpDelete {
		row = ev.Before
	}
	c.ID = integer(row, a.id)
	c.B = integer(ev.After, a.b)
	return nil
}

// integer returns column i of row as an int64, 0 when it has none.
func integer(row event.Row, i int) int64 {
	if i < 0 || i >= len(row) {
		return 0
	}
	switch v := row[i].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int:
		return int64(v)
	}
	return 0
}
