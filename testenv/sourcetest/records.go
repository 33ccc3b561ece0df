package sourcetest

import (
	"fmt"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// Record is a change record read back from Kafka and decoded with the
// schemas the registry holds for its frames' ids.
type Record struct {
	Topic  string
	Offset int64
	// Key is the key row (the table's key columns), nil for a null key.
	Key event.Row
	// Value is the change, nil for a tombstone. Its Table is nil: Columns
	// names the fields of its Before and After rows.
	Value *event.Event
	// Columns are the names of the row fields of the value's schema, in
	// the order of Value.Before and Value.After.
	Columns []string
}

// Field returns the after image's value of column name (the before
// image's for a delete), and whether the record has that column.
func (r Record) Field(name string) (any, bool) {
	if r.Value == nil {
		return nil, false
	}
	row := r.Value.After
	if row == nil {
		row = r.Value.Before
	}
	for i, c := range r.Columns {
		if c == name && i < len(row) {
			return row[i], true
		}
	}
	return nil, false
}

// record returns the view of a record read back that the scenarios
// assert on.
func record(r topictest.Record) (Record, error) {
	key, change, err := r.Change()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Topic: r.Raw.Topic, Offset: r.Raw.Offset, Key: key, Value: change}
	if s := r.RowSchema(); s != nil {
		for _, f := range s.Fields {
			rec.Columns = append(rec.Columns, f.Name)
		}
	}
	return rec, nil
}

// ReadUntil consumes topic from its start, decoding each record, until done
// accepts the records read so far; it fails the test when no record arrived
// for topictest.Wait before done did, or when alive (when not nil) fails
// it first: alive is called between polls to notice a source that stopped.
func (s *Suite) ReadUntil(t testing.TB, topic string, alive func(), done func([]Record) bool) []Record {
	t.Helper()
	var out []Record
	_, ok := s.Reader.ReadUntil(t, topic, alive, func(rs []topictest.Record) bool {
		for _, r := range rs[len(out):] {
			rec, err := record(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rec)
		}
		return done(out)
	})
	if !ok {
		t.Fatalf("topic %s: the records expected did not arrive (none for %s); got %d:%s", topic, topictest.Wait, len(out), Describe(out))
	}
	return out
}

// ReadAll consumes a single-partition topic from its start to its current
// end; a topic that does not exist has no records.
func (s *Suite) ReadAll(t testing.TB, topic string) []Record {
	t.Helper()
	var out []Record
	for _, r := range s.Reader.ReadAll(t, topic, nil) {
		rec, err := record(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// Describe renders records briefly for failure messages: op and key each.
func Describe(rs []Record) string {
	const most = 40
	s := ""
	for i, r := range rs {
		if i == most {
			s += fmt.Sprintf(" … (%d more)", len(rs)-most)
			break
		}
		if r.Value == nil {
			s += fmt.Sprintf(" tombstone%v", r.Key)
			continue
		}
		s += fmt.Sprintf(" %s%v", r.Value.Op, r.Key)
	}
	return s
}
