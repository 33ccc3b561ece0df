package cdc

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
)

// topicKeys declare what a source writes besides its tables' changes, as
// Debezium names them: the operations not written, the transaction topic
// and the heartbeat topic.
func topicKeys() []conf.Key {
	return []conf.Key{
		{Name: "skipped.operations", Type: conf.List, Default: "t", Check: checkSkipped, Group: "Events", Doc: "Operations whose change events are not written: c (inserts), u (updates), d (deletes), t (truncates), or none. Snapshot reads are always written. Debezium's default skips truncates."},
		{Name: "provide.transaction.metadata", Type: conf.Boolean, Default: "false", Group: "Events", Doc: "Write a BEGIN and an END record for every transaction with captured changes to <topic.prefix>.<topic.transaction>: key io.debezium.connector.common.TransactionMetadataKey {id}, value io.debezium.connector.common.TransactionMetadataValue {status, id, event_count, data_collections, ts_ms}, as Debezium does. Change events always carry their transaction block (id, total_order, data_collection_order)."},
		{Name: "topic.transaction", Type: conf.String, Default: "transaction", Check: checkTopicName, Group: "Topics", Doc: "Name of the transaction topic after <topic.prefix>."},
		{Name: "topic.heartbeat.prefix", Type: conf.String, Default: "__debezium-heartbeat", Check: checkTopicName, Group: "Topics", Doc: "Heartbeat records go to <topic.heartbeat.prefix>.<topic.prefix> every heartbeat.interval.ms while the source runs: key io.debezium.connector.common.ServerNameKey {serverName}, value io.debezium.connector.common.Heartbeat {ts_ms}."},
		{Name: "heartbeat.topics.prefix", Type: conf.String, Check: checkTopicName, Deprecated: "use topic.heartbeat.prefix", Group: "Topics", Doc: "The older name of topic.heartbeat.prefix, used when that is not given."},
	}
}

// skippable are the operations skipped.operations may name.
var skippable = map[string]event.Op{"c": event.OpCreate, "u": event.OpUpdate, "d": event.OpDelete, "t": event.OpTruncate}

func checkSkipped(v string) error {
	ops := conf.SplitList(v)
	for _, op := range ops {
		if _, ok := skippable[strings.ToLower(op)]; !ok && !(strings.EqualFold(op, "none") && len(ops) == 1) {
			return fmt.Errorf("invalid operation %q: list c, u, d and t, or give none alone", op)
		}
	}
	return nil
}

// Output is the connectors.Class.Output of every source built on this
// package: the topic prefix and tombstones.on.delete, the skipped
// operations, and the transaction and heartbeat topics when enabled.
func Output(c *conf.Config) connectors.SourceOutput {
	prefix := c.String("topic.prefix")
	out := connectors.SourceOutput{TopicPrefix: prefix, Tombstones: c.Bool("tombstones.on.delete")}
	for _, op := range c.List("skipped.operations") {
		if o, ok := skippable[strings.ToLower(op)]; ok {
			out.Skipped = append(out.Skipped, o)
		}
	}
	if c.Bool("provide.transaction.metadata") {
		out.TransactionTopic = prefix + "." + c.String("topic.transaction")
	}
	if every := time.Duration(c.Int("heartbeat.interval.ms")) * time.Millisecond; every > 0 {
		hb := c.String("topic.heartbeat.prefix")
		if !c.Given("topic.heartbeat.prefix") && c.Given("heartbeat.topics.prefix") {
			hb = c.String("heartbeat.topics.prefix")
		}
		out.HeartbeatTopic, out.HeartbeatInterval = hb+"."+prefix, every
	}
	return out
}
