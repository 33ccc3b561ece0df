package cdc

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
)

// NewSpec declares a source class's keys: own (the database's), then the
// Debezium keys every source shares — with level naming the container
// filter keys ("schema" for schema.include.list, "database" for
// database.include.list) — then the producer and converter keys.
func NewSpec(level string, own ...conf.Key) *conf.Spec {
	keys := append([]conf.Key{}, own...)
	keys = append(keys, sharedKeys(level)...)
	keys = append(keys, failureKeys()...)
	keys = append(keys, topicKeys()...)
	keys = append(keys, debeziumKeys()...)
	keys = append(keys, kafka.ProducerKeys...)
	keys = append(keys, kafka.SourceErrorKeys...)
	return &conf.Spec{Prefixes: []string{"transforms", "predicates"}, Keys: append(keys, kafka.ConverterKeys...)}
}

func sharedKeys(level string) []conf.Key {
	return []conf.Key{
		{Name: "topic.prefix", Type: conf.String, Required: true, Check: checkTopicPrefix, Group: "Topics", Doc: "Prefix of every topic name (<prefix>.<" + level + ">.<table>) and of the Avro schema names."},
		{Name: level + ".include.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of the " + level + "s to capture; all when empty."},
		{Name: level + ".exclude.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of " + level + "s not to capture."},
		{Name: "table.include.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions matched against " + level + ".table of the tables to capture."},
		{Name: "table.exclude.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of " + level + ".table not to capture."},
		{Name: "column.include.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions matched against " + level + ".table.column of the columns to keep."},
		{Name: "column.exclude.list", Type: conf.List, Check: conf.RegexList, Group: "Filters", Doc: "Regular expressions of " + level + ".table.column to drop from events."},
		{Name: "message.key.columns", Type: conf.String, Check: checkKeyColumns, Group: "Events", Doc: "Key columns for tables without a suitable primary key: " + level + ".table:col1,col2;" + level + ".table2:col (the table part is a regular expression)."},
		{Name: "snapshot.mode", Type: conf.String, Default: SnapshotInitial, Allowed: []string{SnapshotInitial, SnapshotInitialOnly, SnapshotNoData, "never", SnapshotWhenNeeded, SnapshotAlways}, Group: "Snapshot", Doc: "initial: snapshot once, then stream; initial_only: snapshot, then stop; no_data (never): stream only; when_needed: snapshot when no usable position exists; always: snapshot at every start."},
		{Name: "snapshot.fetch.size", Type: conf.Int, Default: "10240", Min: 1, Max: 1 << 20, Group: "Snapshot", Doc: "Rows read per chunk while snapshotting."},
		{Name: "signal.data.collection", Type: conf.String, Check: checkSignalTable, Group: "Signals", Doc: "The signal table, " + level + ".table, with columns id, type and data (text types): the stream acts on the rows inserted into it (execute-snapshot, stop-snapshot, pause-snapshot, resume-snapshot, log). The publication must carry it; it is not captured unless the filters capture it."},
		{Name: "signal.enabled.channels", Type: conf.List, Default: "source", Check: checkSignalChannels, Group: "Signals", Doc: "Where signals are read: source (the signal table), kafka (the topic signal.kafka.topic). The daemon's REST API (POST /connectors/{name}/snapshots) always takes them."},
		{Name: "signal.kafka.topic", Type: conf.String, Check: checkSignalTopic, Group: "Signals", Doc: "The topic the kafka channel reads signals from (its partition 0): records keyed by topic.prefix, valued {\"id\": …, \"type\": …, \"data\": {…}}. Default: <topic.prefix>-signal."},
		{Name: "signal.kafka.bootstrap.servers", Type: conf.List, Group: "Signals", Doc: "host:port of the Kafka brokers holding signal.kafka.topic; required with the kafka channel."},
		{Name: "signal.kafka.groupId", Type: conf.String, Default: "kafka-signal", Group: "Signals", Doc: "Consumer group of the kafka channel: the offset after the last signal read is committed to it when the source stops, and a source with no signal offset stored with its offsets starts there (else at the topic's start)."},
		Ignored("signal.kafka.poll.timeout.ms", "the signal topic is read continuously; the stream takes the signals read at least every 200 ms"),
		family("signal.consumer.<property>", `^signal\.consumer\..+$`, "the kafka channel's consumer takes no extra properties: it connects to signal.kafka.bootstrap.servers in plain text; use a listener without TLS or SASL for it, or the signal table or the REST API"),
		{Name: "snapshot.new.tables", Type: conf.String, Default: "off", Allowed: []string{"off", "parallel"}, Group: "Signals", Doc: "parallel: tables that a configuration update adds to the captured ones (table.include.list) get an incremental snapshot when the connector starts again, while it streams the others; off: they are streamed from then on only."},
		{Name: "incremental.snapshot.chunk.size", Type: conf.Int, Default: "1024", Min: 1, Max: 1 << 20, Group: "Signals", Doc: "Rows an incremental snapshot reads per chunk, each between two watermarks."},
		{Name: "heartbeat.interval.ms", Type: conf.Int, Default: "0", Min: 0, Max: 1 << 30, Group: "Replication", Doc: "How often, when no captured change flows, to move the confirmed position forward so the database's log does not pile up; 0 disables."},
		{Name: "tombstones.on.delete", Type: conf.Boolean, Default: "true", Group: "Events", Doc: "Follow each delete event with a tombstone (the key with a null value) so log compaction can drop the key."},
		{Name: "decimal.handling.mode", Type: conf.String, Default: "precise", Allowed: []string{"precise", "double", "string"}, Group: "Events", Doc: "How exact numbers are written: Decimal bytes, double, or string."},
		{Name: "binary.handling.mode", Type: conf.String, Default: "bytes", Allowed: []string{"bytes", "base64", "base64-url-safe", "hex"}, Group: "Events", Doc: "How binary columns are written."},
	}
}

var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

func checkTopicPrefix(v string) error {
	if !topicRE.MatchString(v) || len(v) > 200 {
		return fmt.Errorf("invalid topic prefix %q: use letters, digits, '.', '_' and '-' (at most 200)", v)
	}
	return nil
}

func checkSignalTable(v string) error {
	if v != "" && strings.Count(v, ".") != 1 {
		return fmt.Errorf("invalid signal table %q: give it as schema.table (Postgres) or database.table (MySQL)", v)
	}
	return nil
}

func checkSignalChannels(v string) error {
	for _, c := range conf.SplitList(v) {
		if !strings.EqualFold(c, "source") && !strings.EqualFold(c, "kafka") {
			return fmt.Errorf("unsupported signal channel %q: sluice reads signals from the signal table (source), a Kafka topic (kafka) and its REST API (POST /connectors/{name}/snapshots)", c)
		}
	}
	return nil
}

func checkSignalTopic(v string) error {
	if v != "" && (!topicRE.MatchString(v) || len(v) > 249) {
		return fmt.Errorf("invalid topic name %q: use letters, digits, '.', '_' and '-' (at most 249)", v)
	}
	return nil
}

// Config is the parsed form of the keys every source shares.
type Config struct {
	TopicPrefix       string
	Filter            *Filter
	KeyColumns        KeyColumns
	SnapshotMode      string // one of the Snapshot* constants
	SnapshotFetchSize int
	HeartbeatInterval time.Duration
	// SignalTable is signal.data.collection when signal.enabled.channels
	// has source; "" for none.
	SignalTable string
	// KafkaSignals is the kafka signal channel when signal.enabled.channels
	// has kafka; nil otherwise.
	KafkaSignals *KafkaSignalConfig
	// SnapshotNewTables is snapshot.new.tables=parallel.
	SnapshotNewTables bool
	// IncrementalChunkSize is incremental.snapshot.chunk.size.
	IncrementalChunkSize int
	Tombstones           bool
	DecimalMode          string
	BinaryMode           string
	// FailureMode is event.processing.failure.handling.mode: one of the
	// Failure* constants.
	FailureMode string
	// DeadLetterTopic is errors.deadletterqueue.topic.name; "" for none.
	DeadLetterTopic string
	Producer        kafka.ProducerConfig
}

// ParseConfig reads the shared keys of a configuration parsed against a
// NewSpec(level, …) spec; system is as for NewFilter.
func ParseConfig(c *conf.Config, level string, system func(container string) bool) (Config, error) {
	filter, err := NewFilter(c, level, system)
	if err != nil {
		return Config{}, err
	}
	keys, _ := ParseKeyColumns(c.String("message.key.columns"))
	mode := c.Enum("snapshot.mode")
	if mode == "never" {
		mode = SnapshotNoData
	}
	signalTable := c.String("signal.data.collection")
	if len(c.List("signal.enabled.channels")) == 0 {
		signalTable = ""
	}
	var kafkaSignals *KafkaSignalConfig
	for _, ch := range c.List("signal.enabled.channels") {
		if strings.EqualFold(ch, "kafka") {
			brokers := c.List("signal.kafka.bootstrap.servers")
			if len(brokers) == 0 {
				return Config{}, conf.Problems{{Key: "signal.kafka.bootstrap.servers", Message: "missing: signal.enabled.channels has kafka, which reads signals from these brokers"}}
			}
			kafkaSignals = &KafkaSignalConfig{Topic: c.String("signal.kafka.topic"), Brokers: brokers, Group: c.String("signal.kafka.groupId"), Key: c.String("topic.prefix")}
			if kafkaSignals.Topic == "" {
				kafkaSignals.Topic = kafkaSignals.Key + "-signal"
			}
		}
	}
	failure := c.Enum("event.processing.failure.handling.mode")
	if failure == "ignore" {
		failure = FailureSkip
	}
	return Config{
		TopicPrefix: c.String("topic.prefix"), Filter: filter, KeyColumns: keys,
		SnapshotMode: mode, SnapshotFetchSize: int(c.Int("snapshot.fetch.size")),
		HeartbeatInterval: time.Duration(c.Int("heartbeat.interval.ms")) * time.Millisecond,
		SignalTable:       signalTable, KafkaSignals: kafkaSignals, IncrementalChunkSize: int(c.Int("incremental.snapshot.chunk.size")),
		SnapshotNewTables: c.Enum("snapshot.new.tables") == "parallel",
		Tombstones:        c.Bool("tombstones.on.delete"),
		DecimalMode:       c.Enum("decimal.handling.mode"), BinaryMode: c.Enum("binary.handling.mode"),
		FailureMode: failure, DeadLetterTopic: c.String("errors.deadletterqueue.topic.name"),
		Producer: kafka.ProducerConfigFrom(c),
	}, nil
}

// OffsetKey is the partition key of a source's offsets: Debezium keys them
// by server name, which is the topic prefix.
func OffsetKey(topicPrefix string) string { return "server=" + topicPrefix }
