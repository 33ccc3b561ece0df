package cdc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/connectors/kafka"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/event"
)

// The values of event.processing.failure.handling.mode (ignore, Debezium's
// transitional name for skip, is read as skip).
const (
	FailureFail = "fail"
	FailureWarn = "warn"
	FailureSkip = "skip"
)

// failureKeys declares event.processing.failure.handling.mode and the
// dead-letter topic of changes it drops.
func failureKeys() []conf.Key {
	return []conf.Key{
		{Name: "event.processing.failure.handling.mode", Type: conf.String, Default: FailureFail, Allowed: []string{FailureFail, FailureWarn, FailureSkip, "ignore"}, Group: "Events",
			Doc: "What happens to a change holding a value that cannot be converted: fail stops the connector (FAILED) naming the table, column, type and position, without delivering the change; warn logs the change at WARN and drops it; skip (ignore) logs it at INFO and drops it. Dropped changes are counted in sluice_source_failed_changes_total."},
		{Name: "errors.deadletterqueue.topic.name", Type: conf.String, Check: checkTopicName, Group: "Events",
			Doc: "Topic that receives every change dropped by event.processing.failure.handling.mode=warn or skip, as a JSON record of its table, operation, position, failing column and type, the error and the database's text of every value; none when empty."},
	}
}

func checkTopicName(v string) error {
	if v != "" && (!topicRE.MatchString(v) || len(v) > 249) {
		return fmt.Errorf("invalid topic name %q: use letters, digits, '.', '_' and '-' (at most 249)", v)
	}
	return nil
}

// ValueError is a column value the type mapping cannot convert. A
// database's row decoding returns it, so that its reader can describe the
// change around it in a FailedChange.
type ValueError struct {
	Column string
	Type   string // the column's type as the database names it: "interval", "datetime(6)"
	Err    error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("column %s (%s): %v", e.Column, e.Type, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// FailedChange is a change one of whose values cannot be converted.
type FailedChange struct {
	// Table is the table as topic names spell it: schema.table, database.table.
	Table string
	Op    event.Op
	// Position says where the change is, as the database's tools say it:
	// "LSN 0/16B3748 (transaction 766)", "binlog mysql-bin.000003:1234",
	// "snapshot at LSN 0/16B3748".
	Position string
	Value    *ValueError
	// Before and After are the values of the change's old and new row as
	// the database gave them, by column: its text, nil for NULL. An image
	// the change does not have is nil.
	Before, After map[string]any
}

// DeadLetterWriter writes a record to a topic and waits until Kafka has it;
// the Emitter a source writes to implements it when it writes to Kafka
// (kafka.Writer).
type DeadLetterWriter interface {
	DeadLetter(ctx context.Context, topic string, key, value []byte) error
}

var _ DeadLetterWriter = (*kafka.Writer)(nil)

// Failures applies event.processing.failure.handling.mode to the changes a
// source's readers cannot convert. Handle is called from the reading
// goroutine and blocks while a dead letter is written.
type Failures struct {
	mode      string
	topic     string
	connector string
	dead      DeadLetterWriter
	failed    *metrics.Counter
	logger    *slog.Logger
}

// NewFailures returns the failure handling of a source configured by cfg
// and named connector, writing dead letters through out. It fails when a
// dead-letter topic is configured and out cannot write one.
func NewFailures(cfg Config, connector string, out connectors.Emitter, m Metrics, logger *slog.Logger) (*Failures, error) {
	f := &Failures{mode: cfg.FailureMode, topic: cfg.DeadLetterTopic, connector: connector, failed: m.failed, logger: logger}
	if f.topic != "" {
		dw, ok := out.(DeadLetterWriter)
		if !ok {
			return nil, connectors.Permanent(fmt.Errorf("errors.deadletterqueue.topic.name is %q but this source's pipeline (%T) cannot write dead letters", f.topic, out))
		}
		f.dead = dw
	}
	return f, nil
}

// Handle decides what becomes of a change that cannot be converted.
//
// With fail it returns a permanent error naming the table, column, type
// and position: the change is not delivered, no position after it is
// confirmed, and the connector stops as FAILED, so that a restart (after
// the mode or the data changed) reads the change again.
//
// With warn and skip it logs the change (at WARN and INFO), counts it in
// sluice_source_failed_changes_total, writes it to the dead-letter topic
// when one is configured, and returns nil: the reader drops the change and
// goes on. Debezium's warn and skip drop the event the same way. It
// returns an error only when the dead letter cannot be written.
func (f *Failures) Handle(ctx context.Context, c *FailedChange) error {
	v := c.Value
	if f.mode == FailureFail {
		return connectors.Permanent(fmt.Errorf("cannot convert column %s (%s) of %s at %s: %v. The change was not delivered and the connector stopped "+
			"(event.processing.failure.handling.mode=fail); to drop such changes and go on, set event.processing.failure.handling.mode=warn or skip "+
			"(errors.deadletterqueue.topic.name keeps them)", v.Column, v.Type, c.Table, c.Position, v.Err))
	}
	level, msg := slog.LevelWarn, "dropped a change whose value cannot be converted (event.processing.failure.handling.mode=warn)"
	if f.mode == FailureSkip {
		level, msg = slog.LevelInfo, "dropped a change whose value cannot be converted (event.processing.failure.handling.mode=skip)"
	}
	f.logger.Log(ctx, level, msg, "table", c.Table, "column", v.Column, "type", v.Type, "op", c.Op.String(),
		"position", c.Position, "error", v.Err.Error())
	f.failed.Add(1)
	if f.dead == nil {
		return nil
	}
	value, err := json.Marshal(deadLetter{
		Connector: f.connector, Table: c.Table, Op: c.Op.String(), Position: c.Position,
		Column: v.Column, Type: v.Type, Error: v.Err.Error(), Before: c.Before, After: c.After,
		TsMs: time.Now().UnixMilli(),
	})
	if err != nil {
		return fmt.Errorf("encode the dead letter of a change of %s at %s: %w", c.Table, c.Position, err)
	}
	if err := f.dead.DeadLetter(ctx, f.topic, []byte(c.Table), value); err != nil {
		return fmt.Errorf("write the change of %s at %s to dead-letter topic %q (errors.deadletterqueue.topic.name): %w", c.Table, c.Position, f.topic, err)
	}
	return nil
}

// deadLetter is the JSON value of a dead-letter record; its key is the
// table's name.
type deadLetter struct {
	Connector string         `json:"connector"`
	Table     string         `json:"table"`
	Op        string         `json:"op"`
	Position  string         `json:"position"`
	Column    string         `json:"column"`
	Type      string         `json:"type"`
	Error     string         `json:"error"`
	Before    map[string]any `json:"before"`
	After     map[string]any `json:"after"`
	TsMs      int64          `json:"ts_ms"`
}
