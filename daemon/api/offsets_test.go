package api

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/sluice-cdc/sluice/daemon"
)

// fakeGroups keeps consumer group offsets in memory, as the runtime keeps
// them in Kafka; active makes it refuse changes as a group with members.
type fakeGroups struct {
	mu        sync.Mutex
	committed map[string][]daemon.GroupOffset
	active    bool
}

func (f *fakeGroups) Committed(ctx context.Context, group string) ([]daemon.GroupOffset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.committed[group]), nil
}

func (f *fakeGroups) Alter(ctx context.Context, group string, set, unset []daemon.GroupOffset) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active {
		return fmt.Errorf("%w: UNKNOWN_MEMBER_ID", daemon.ErrGroupActive)
	}
	cur := f.committed[group]
	for _, u := range append(slices.Clone(set), unset...) {
		cur = slices.DeleteFunc(cur, func(o daemon.GroupOffset) bool { return o.Topic == u.Topic && o.Partition == u.Partition })
	}
	f.committed[group] = append(cur, set...)
	return nil
}

func (f *fakeGroups) Reset(ctx context.Context, group string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active {
		return fmt.Errorf("%w: NON_EMPTY_GROUP", daemon.ErrGroupActive)
	}
	delete(f.committed, group)
	return nil
}

func TestSinkOffsetsAreTheConsumerGroups(t *testing.T) {
	h := newHarness(t, Options{})
	h.groups.committed["connect-s"] = []daemon.GroupOffset{{Topic: "t2", Partition: 0, Offset: 7}, {Topic: "t1", Partition: 1, Offset: 3}, {Topic: "t1", Partition: 0, Offset: 5}}
	h.expect("POST", "/connectors", `{"name": "s", "config": {"connector.class": "sluice-test-sink", "topics": "t1,t2"}}`, 201,
		`{"name": "s", "config": {"connector.class": "sluice-test-sink", "topics": "t1,t2", "name": "s"}, "tasks": [{"connector": "s", "task": 0}], "type": "sink"}`)
	h.waitState("s", daemon.Running)
	h.expect("GET", "/connectors/s/offsets", "", 200, `{"offsets": [
		{"partition": {"kafka_topic": "t1", "kafka_partition": 0}, "offset": {"kafka_offset": 5}},
		{"partition": {"kafka_topic": "t1", "kafka_partition": 1}, "offset": {"kafka_offset": 3}},
		{"partition": {"kafka_topic": "t2", "kafka_partition": 0}, "offset": {"kafka_offset": 7}}]}`)

	change := `{"offsets": [{"partition": {"kafka_topic": "t1", "kafka_partition": 0}, "offset": {"kafka_offset": 2}},
		{"partition": {"kafka_topic": "t1", "kafka_partition": "1"}, "offset": null},
		{"partition": {"kafka_topic": "t3", "kafka_partition": 0}, "offset": {"kafka_offset": "10"}}]}`
	notStopped := `{"error_code": 400, "message": "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/s/stop' endpoint"}`
	h.expect("PATCH", "/connectors/s/offsets", change, 400, notStopped)
	h.expect("DELETE", "/connectors/s/offsets", "", 400, notStopped)
	h.expect("PUT", "/connectors/s/stop", "", 202, "")

	for body, msg := range map[string]string{
		`{"offsets": [{"offset": null}]}`:                                                                                      `The partition for a sink connector offset cannot be null or missing`,
		`{"offsets": [{"partition": null, "offset": null}]}`:                                                                   `The partition for a sink connector offset cannot be null or missing`,
		`{"offsets": [{"partition": {}, "offset": null}]}`:                                                                     `The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'`,
		`{"offsets": [{"partition": {"kafka_topic": null, "kafka_partition": 1}}]}`:                                            `Kafka topic names must be valid strings and may not be null`,
		`{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": null}}]}`:                                          `Kafka partitions must be valid numbers and may not be null`,
		`{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": "not a number"}}]}`:                                `Failed to parse the following Kafka partition value in the provided offsets: 'not a number'. Partition values for sink connectors need to be integers.`,
		`{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 1.5}}]}`:                                           `Failed to parse the following Kafka partition value in the provided offsets: '1.5'. Partition values for sink connectors need to be integers.`,
		`{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 1}, "offset": {}}]}`:                               `The offset for a sink connector should either be null or contain the key 'kafka_offset'`,
		`{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 1}, "offset": {"kafka_offset": "not a number"}}]}`: `Failed to parse the following Kafka offset value in the provided offsets: 'not a number'. Offset values for sink connectors need to be integers.`,
		`{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 1}, "offset": {"kafka_offset": -1}}]}`:             `Failed to parse the following Kafka offset value in the provided offsets: '-1'. Offset values for sink connectors need to be integers.`,
	} {
		h.expect("PATCH", "/connectors/s/offsets", body, 400, `{"error_code": 400, "message": "`+msg+`"}`)
	}

	h.groups.active = true
	h.expect("PATCH", "/connectors/s/offsets", change, 409, `{"error_code": 409, "message": "Failed to alter consumer group offsets for connector s either because its tasks haven't stopped completely yet `+
		`or the connector was resumed before the request to alter its offsets could be successfully completed. If the connector is in a stopped state, this operation can be safely retried. `+
		`If it doesn't eventually succeed, another consumer is a member of consumer group connect-s: stop it (consumer group has members: UNKNOWN_MEMBER_ID)"}`)
	h.expect("DELETE", "/connectors/s/offsets", "", 409, `{"error_code": 409, "message": "Failed to reset consumer group offsets for connector s either because its tasks haven't stopped completely yet `+
		`or the connector was resumed before the request to reset its offsets could be successfully completed. If the connector is in a stopped state, this operation can be safely retried. `+
		`If it doesn't eventually succeed, another consumer is a member of consumer group connect-s: stop it (consumer group has members: NON_EMPTY_GROUP)"}`)
	h.groups.active = false

	h.expect("PATCH", "/connectors/s/offsets", change, 200, `{"message": "The offsets for this connector have been altered successfully"}`)
	h.expect("GET", "/connectors/s/offsets", "", 200, `{"offsets": [
		{"partition": {"kafka_topic": "t1", "kafka_partition": 0}, "offset": {"kafka_offset": 2}},
		{"partition": {"kafka_topic": "t2", "kafka_partition": 0}, "offset": {"kafka_offset": 7}},
		{"partition": {"kafka_topic": "t3", "kafka_partition": 0}, "offset": {"kafka_offset": 10}}]}`)
	h.expect("DELETE", "/connectors/s/offsets", "", 200, `{"message": "The offsets for this connector have been reset successfully"}`)
	h.expect("GET", "/connectors/s/offsets", "", 200, `{"offsets": []}`)
	// A reset is idempotent, as Kafka Connect's.
	h.expect("DELETE", "/connectors/s/offsets", "", 200, `{"message": "The offsets for this connector have been reset successfully"}`)
	if rec, _ := h.store.Get(context.Background(), "s"); rec.Offsets != nil {
		t.Fatalf("a sink's offsets reached the store: %v", rec.Offsets)
	}
}
