package faults

import (
	"fmt"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// Events turns the records a source wrote for a workload table, as read
// back by topictest (an independent consumer decoding with the registry's
// schemas), into events in the order read; tombstones carry no change and
// are left out.
func Events(rs []topictest.Record) ([]Event, error) {
	out := make([]Event, 0, len(rs))
	for _, r := range rs {
		_, e, err := r.Change()
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		at := fmt.Sprintf("%s/%d@%d", r.Raw.Topic, r.Raw.Partition, r.Raw.Offset)
		row := e.After
		if row == nil {
			row = e.Before
		}
		s := r.RowSchema()
		get := func(name string) (any, error) {
			i := s.FieldIndex(name)
			if i < 0 || i >= len(row) {
				return nil, fmt.Errorf("%s: no column %s in the %c event", at, name, e.Op)
			}
			return row[i], nil
		}
		ev := Event{Op: e.Op, At: at}
		id, err := get("id")
		if err != nil {
			return nil, err
		}
		if ev.Key, err = integer(id); err != nil {
			return nil, fmt.Errorf("%s: id: %w", at, err)
		}
		if ev.Op != event.OpDelete {
			seq, err := get("seq")
			if err != nil {
				return nil, err
			}
			if ev.Seq, err = integer(seq); err != nil {
				return nil, fmt.Errorf("%s: seq: %w", at, err)
			}
			v, err := get("v")
			if err != nil {
				return nil, err
			}
			ev.V, _ = v.(string)
		}
		out = append(out, ev)
	}
	return out, nil
}

func integer(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	case int:
		return int64(n), nil
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("%v is a %T, not an integer", v, v)
}
