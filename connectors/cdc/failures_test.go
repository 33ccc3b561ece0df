package cdc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/event"
)

// deadLetters is an Emitter that also writes dead letters, keeping them.
type deadLetters struct {
	heldEmitter
	records []string // "topic key value"
}

func (d *deadLetters) DeadLetter(_ context.Context, topic string, key, value []byte) error {
	d.records = append(d.records, fmt.Sprintf("%s %s %s", topic, key, value))
	return nil
}

func failedChange() *FailedChange {
	return &FailedChange{
		Table: "public.edges", Op: event.OpUpdate, Position: "LSN 0/16B3748 (transaction 766)",
		Value:  &ValueError{Column: "v", Type: "interval", Err: errors.New(`parse interval "x": empty`)},
		Before: map[string]any{"id": "1", "v": nil}, After: map[string]any{"id": "1", "v": "x"},
	}
}

// fail stops the connector for good, naming the table, column, type and
// position, and says which keys change that.
func TestFailModeIsPermanent(t *testing.T) {
	f, err := NewFailures(Config{FailureMode: FailureFail}, "c", heldEmitter{}, NewMetrics(nil, "c"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = f.Handle(context.Background(), failedChange())
	want := `cannot convert column v (interval) of public.edges at LSN 0/16B3748 (transaction 766): parse interval "x": empty. ` +
		`The change was not delivered and the connector stopped (event.processing.failure.handling.mode=fail); ` +
		`to drop such changes and go on, set event.processing.failure.handling.mode=warn or skip (errors.deadletterqueue.topic.name keeps them)`
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("Handle = %v, want the permanent error %q", err, want)
	}
}

// warn and skip log the change with its details, count it and write it to
// the dead-letter topic as JSON; the reader then drops it.
func TestWarnAndSkipDropCountAndDeadLetter(t *testing.T) {
	for _, c := range []struct{ mode, level string }{{FailureWarn, "WARN"}, {FailureSkip, "INFO"}} {
		var logs bytes.Buffer
		reg := metrics.NewRegistry()
		out := &deadLetters{}
		f, err := NewFailures(Config{FailureMode: c.mode, DeadLetterTopic: "dlq"}, "c", out, NewMetrics(reg, "c"),
			slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: dropTime})))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Handle(context.Background(), failedChange()); err != nil {
			t.Fatalf("%s: Handle = %v", c.mode, err)
		}
		wantLog := fmt.Sprintf(`level=%s msg="dropped a change whose value cannot be converted (event.processing.failure.handling.mode=%s)" `+
			`table=public.edges column=v type=interval op=u position="LSN 0/16B3748 (transaction 766)" error="parse interval \"x\": empty"`+"\n", c.level, c.mode)
		if logs.String() != wantLog {
			t.Errorf("%s: log\n%s\nwant\n%s", c.mode, logs.String(), wantLog)
		}
		var prom strings.Builder
		reg.WritePrometheus(&prom)
		if !strings.Contains(prom.String(), `sluice_source_failed_changes_total{connector="c"} 1`+"\n") {
			t.Errorf("%s: metrics lack the count:\n%s", c.mode, prom.String())
		}
		if len(out.records) != 1 {
			t.Fatalf("%s: dead letters %q", c.mode, out.records)
		}
		got := regexp.MustCompile(`"ts_ms":\d+`).ReplaceAllString(out.records[0], `"ts_ms":0`)
		want := `dlq public.edges {"connector":"c","table":"public.edges","op":"u","position":"LSN 0/16B3748 (transaction 766)","column":"v","type":"interval",` +
			`"error":"parse interval \"x\": empty","before":{"id":"1","v":null},"after":{"id":"1","v":"x"},"ts_ms":0}`
		if got != want {
			t.Errorf("%s: dead letter\n%s\nwant\n%s", c.mode, got, want)
		}
	}
}

// A dead-letter topic needs a pipeline that writes dead letters.
func TestDeadLetterTopicNeedsAWriter(t *testing.T) {
	_, err := NewFailures(Config{FailureMode: FailureWarn, DeadLetterTopic: "dlq"}, "c", heldEmitter{}, NewMetrics(nil, "c"), slog.New(slog.DiscardHandler))
	want := `errors.deadletterqueue.topic.name is "dlq" but this source's pipeline (cdc.heldEmitter) cannot write dead letters`
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("NewFailures = %v, want %q", err, want)
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// The keys parse as Debezium's: ignore is skip; values and topic names are
// checked.
func TestFailureKeys(t *testing.T) {
	spec := NewSpec("schema")
	parsed, err := spec.Parse(map[string]string{"topic.prefix": "p", "event.processing.failure.handling.mode": "IGNORE", "errors.deadletterqueue.topic.name": "p.dlq"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(parsed, "schema", func(string) bool { return false })
	if err != nil || cfg.FailureMode != FailureSkip || cfg.DeadLetterTopic != "p.dlq" {
		t.Fatalf("ParseConfig = %+v, %v", cfg, err)
	}
	parsed, _ = spec.Parse(map[string]string{"topic.prefix": "p"})
	if cfg, _ := ParseConfig(parsed, "schema", func(string) bool { return false }); cfg.FailureMode != FailureFail || cfg.DeadLetterTopic != "" {
		t.Fatalf("defaults = %q, %q", cfg.FailureMode, cfg.DeadLetterTopic)
	}
	_, err = spec.Parse(map[string]string{"topic.prefix": "p", "event.processing.failure.handling.mode": "retry", "errors.deadletterqueue.topic.name": "a b"})
	want := `event.processing.failure.handling.mode: invalid value "retry": must be one of fail, warn, skip, ignore; ` +
		`errors.deadletterqueue.topic.name: invalid topic name "a b": use letters, digits, '.', '_' and '-' (at most 249)`
	if err == nil || err.Error() != want {
		t.Fatalf("Parse = %v, want %q", err, want)
	}
}
