package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// TestIncrementalSnapshotThroughKafkaSignals starts, pauses, resumes and
// stops incremental snapshots with records of the signal topic, keyed by
// topic.prefix as Debezium's Kafka signal channel reads them. A malformed
// record and one keyed for another connector are logged and skipped; the
// source goes on. After a restart the source reads the topic after the
// last record it acted on, so no signal runs twice.
func TestIncrementalSnapshotThroughKafkaSignals(t *testing.T) {
	const rows = 20000
	h := newHarness(t, nil)
	topic := h.prefix + "-signals"
	h.extra = map[string]string{"snapshot.mode": "no_data", "table.include.list": "public.t,public.marker",
		"incremental.snapshot.chunk.size": "200", "signal.enabled.channels": "kafka",
		"signal.kafka.topic": topic, "signal.kafka.bootstrap.servers": strings.Join(h.brokers, ","),
		"signal.kafka.groupId": h.prefix + "-signals"}
	h.log = &sourcetest.Log{}
	setupIncremental(h, rows)
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	send := func(key, value string) int64 {
		t.Helper()
		r, err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value)}).First()
		if err != nil {
			t.Fatal(err)
		}
		return r.Offset
	}
	signal := func(id, typ, data string) int64 {
		return send(h.prefix, `{"id": "`+id+`", "type": "`+typ+`", "data": `+data+`}`)
	}
	snapshot := func(id string) connectors.SnapshotStatus {
		for _, s := range h.signals.Snapshots() {
			if s.ID == id {
				return s
			}
		}
		return connectors.SnapshotStatus{}
	}
	state := func(id, want string) {
		t.Helper()
		waitFor(t, "snapshot "+id+" to be "+want, time.Minute, h.checkRunning, func() bool { return snapshot(id).State == want })
	}
	logged := func(what ...string) {
		t.Helper()
		waitFor(t, "the log to say "+strings.Join(what, " … "), 10*time.Second, h.checkRunning, func() bool {
			for _, line := range strings.Split(h.log.String(), "\n") {
				if !slices.ContainsFunc(what, func(w string) bool { return !strings.Contains(line, w) }) {
					return true
				}
			}
			return false
		})
	}

	h.start()
	h.waitStreaming()
	w := startWorkload(t, h, rows)
	t.Cleanup(func() { w.finish() })
	send(h.prefix, `{"id": "broken", "type": `)
	logged(`level=ERROR msg="signal ignored: the record's value is not a JSON object {\"id\": …, \"type\": …, \"data\": {…}}: unexpected end of JSON input"`,
		"signal_topic="+topic+" offset=0")
	send("another-connector", `{"id": "other", "type": "execute-snapshot", "data": {"data-collections": ["public.t"]}}`)
	logged(`msg="signal skipped: its key is not this connector's topic.prefix"`, "signal_topic="+topic+" offset=1 key=another-connector")
	signal("bad-table", "execute-snapshot", `{"data-collections": ["public.nope"]}`)
	logged("table public.nope is not captured")

	signal("first", "execute-snapshot", `{"data-collections": ["public.t"], "type": "incremental"}`)
	state("first", "RUNNING")
	signal("p", "pause-snapshot", `{}`)
	state("first", "PAUSED")
	time.Sleep(300 * time.Millisecond) // a chunk read before the pause is handed on
	paused := snapshot("first").Rows
	time.Sleep(time.Second)
	if n := snapshot("first").Rows; n != paused {
		t.Fatalf("a paused snapshot read on: %d rows, then %d", paused, n)
	}
	signal("r", "resume-snapshot", `{}`)
	waitFor(t, "snapshot first to read on", time.Minute, h.checkRunning, func() bool { return snapshot("first").Rows > paused })
	signal("s", "stop-snapshot", `{"type": "incremental"}`)
	state("first", "STOPPED")
	if s := snapshot("first"); s.Rows >= rows {
		t.Fatalf("the stopped snapshot read %d rows of %d", s.Rows, rows)
	}
	last := signal("second", "execute-snapshot", `{"data-collections": ["public.t"]}`)
	state("second", "COMPLETED")
	w.finish()
	checkRebuilt(h, 1)
	waitFor(t, "the signal offset to be saved", 10*time.Second, h.checkRunning, func() bool {
		return storedSignalOffset(t, h) == last
	})

	// Restarted, the source acts only on the records after the last one it
	// acted on: the snapshots it ran before are not run again.
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.signals = connectors.Signals{}
	h.start()
	signal("third", "execute-snapshot", `{"data-collections": ["public.marker"]}`)
	state("third", "COMPLETED")
	ids := []string{}
	for _, s := range h.signals.Snapshots() {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"third"}) {
		t.Fatalf("after the restart the source ran snapshots %v, want [third]", ids)
	}
	if n := strings.Count(h.log.String(), "signal skipped: its key is not this connector's topic.prefix"); n != 1 {
		t.Fatalf("the record for another connector was read %d times", n)
	}
}

// storedSignalOffset is the signal topic offset the source's offsets hold;
// -1 for none.
func storedSignalOffset(t *testing.T, h *harness) int64 {
	t.Helper()
	raw, err := h.offsets.Load(context.Background(), "server="+h.prefix)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Offset *int64 `json:"kafka_signal_offset"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &st) != nil || st.Offset == nil {
		return -1
	}
	return *st.Offset
}
