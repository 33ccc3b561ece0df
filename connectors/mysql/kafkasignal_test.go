package mysql_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TestIncrementalSnapshotThroughKafkaSignals starts an incremental
// snapshot with a record of the signal topic, keyed by topic.prefix; the
// offset of the record is saved with the source's offsets, and a restarted
// source does not run the snapshot again.
func TestIncrementalSnapshotThroughKafkaSignals(t *testing.T) {
	const rows = 2000
	h := newHarness(t, nil)
	setupIncremental(h, rows)
	topic := h.db + "-signal" // the default: <topic.prefix>-signal
	h.extra["signal.enabled.channels"] = "source,kafka"
	h.extra["signal.kafka.bootstrap.servers"] = strings.Join(h.brokers, ",")
	h.extra["signal.kafka.groupId"] = h.db
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	r, err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: []byte(h.db),
		Value: []byte(`{"id": "k", "type": "execute-snapshot", "data": {"data-collections": ["` + h.db + `.t"]}}`)}).First()
	if err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitRunning()
	waitFor(t, "the snapshot to complete", time.Minute, h.checkRunning, func() bool { return h.snapshotState("k") == "COMPLETED" })
	if reads := checkRebuilt(h); reads != rows {
		t.Fatalf("%d snapshot reads of a %d-row table", reads, rows)
	}
	offset := func() int64 {
		raw, _ := h.offsets.Load(context.Background(), "server="+h.db)
		var st struct {
			Offset *int64 `json:"kafka_signal_offset"`
		}
		if json.Unmarshal(raw, &st) != nil || st.Offset == nil {
			return -1
		}
		return *st.Offset
	}
	waitFor(t, "the signal offset to be saved", 10*time.Second, h.checkRunning, func() bool { return offset() == r.Offset })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitRunning()
	time.Sleep(3 * time.Second)
	if s := h.signals.Snapshots(); len(s) != 0 {
		t.Fatalf("after a restart the source ran snapshots %+v", s)
	}
	reads := 0
	for _, r := range h.readAll(h.topic("t")) {
		if r.value != nil && r.value.Op == event.OpRead {
			reads++
		}
	}
	if reads != rows {
		t.Fatalf("after a restart the topic holds %d snapshot reads, want %d", reads, rows)
	}
}
