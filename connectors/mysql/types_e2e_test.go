package mysql_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sluice-cdc/sluice/connectors/mysql"
	"github.com/sluice-cdc/sluice/schema/event"
)

// TestEveryTypeSnapshottedAndStreamed reads rows of every type through
// Kafka twice: snapshotted, then deleted and inserted again while
// streaming. Both must equal the expected values, column by column. The
// BIGINT UNSIGNED column holds 18446744073709551615, which needs
// bigint.unsigned.handling.mode=precise.
func TestEveryTypeSnapshottedAndStreamed(t *testing.T) {
	h := newHarness(t, map[string]string{"bigint.unsigned.handling.mode": "precise"})
	h.exec(fmt.Sprintf(mysql.TypesTableSQL, "types"),
		"CREATE TABLE geo (id int PRIMARY KEY, g geometry, p point)",
		"SET SESSION sql_mode = '', time_zone = '+05:30'",
		fmt.Sprintf(mysql.TypesInsertSQL, "types"),
		"INSERT INTO geo VALUES (1, ST_GeomFromText('LINESTRING(0 0, 1 1.5)'), ST_GeomFromText('POINT(1 2)', 4326)), (2, NULL, NULL)")
	h.start()
	h.waitRunning()
	snap := values(h.read(h.topic("types"), 3))
	h.exec("DELETE FROM types", fmt.Sprintf(mysql.TypesInsertSQL, "types"))
	recs := values(h.read(h.topic("types"), 3+3+3+3)) // reads, deletes and their tombstones, creates
	var streamed []*event.Event
	for _, e := range recs {
		if e.Op == event.OpCreate {
			streamed = append(streamed, e)
		}
	}
	if got := ops(snap); got != "rrr" {
		t.Fatalf("snapshot ops = %s", got)
	}
	for _, batch := range [][]*event.Event{snap, streamed} {
		for _, e := range batch {
			id := e.After[0].(int32)
			want := mysql.WantTypesRows[id]
			for i, c := range e.Table.Columns {
				if !mysql.EqualValues(e.After[i], want[i]) {
					got := fmt.Sprintf("%#v", e.After[i])
					if len(got) > 100 {
						got = got[:100] + "…"
					}
					t.Errorf("op %s row %d column %s = %s, want %#v", e.Op, id, c.Name, got, want[i])
				}
			}
		}
	}
	h.exec("DELETE FROM geo WHERE id = 2", "UPDATE geo SET id = 3 WHERE id = 1")
	geo := values(h.read(h.topic("geo"), 6)) // r r d (tombstone) d (tombstone) c
	if got := ops(geo); got != "rrddc" {
		t.Fatalf("geo ops = %s", got)
	}
	if !bytes.Equal(geo[0].After[1].([]byte), geo[3].Before[1].([]byte)) || !bytes.Equal(geo[0].After[2].([]byte), geo[4].After[2].([]byte)) {
		t.Errorf("geometry snapshotted %x %x, streamed %x %x", geo[0].After[1], geo[0].After[2], geo[3].Before[1], geo[4].After[2])
	}
	// POINT(1 2) with SRID 4326: the SRID, then WKB.
	want := []byte{0xe6, 0x10, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}
	if !bytes.Equal(geo[0].After[2].([]byte), want) || geo[1].After[1] != nil {
		t.Errorf("point = %x, want %x; null geometry = %v", geo[0].After[2], want, geo[1].After[1])
	}
}
