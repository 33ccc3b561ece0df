package cdc

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
)

// FuzzSignals: a record of the signal topic, whatever its key and value,
// either becomes a signal with a type or is skipped; the data of a
// snapshot signal either is a request sluice can run, with its tables and
// conditions named, or an error that says what is wrong; nothing panics.
func FuzzSignals(f *testing.F) {
	for _, seed := range []struct{ key, value string }{
		{"shop", `{"id": "s1", "type": "execute-snapshot", "data": {"data-collections": ["public.orders"], "type": "incremental"}}`},
		{"shop", `{"type": "execute-snapshot", "data": {"data-collections": ["public.orders"], "additional-conditions": [{"data-collection": "public.orders", "filter": "id > 5"}]}}`},
		{"shop", `{"type": "stop-snapshot", "data": {"type": "blocking"}}`},
		{"shop", `{"type": "execute-snapshot", "data": {"data-collections": []}}`},
		{"shop", `{"type": "execute-snapshot", "data": "not an object"}`},
		{"shop", `{"type": "execute-snapshot", "data": {"additional-conditions": [{}]}}`},
		{"shop", `{"type": "pause-snapshot"}`},
		{"other", `{"type": "execute-snapshot"}`},
		{"shop", `{"id": 7}`},
		{"shop", "\x00"},
	} {
		f.Add(seed.key, []byte(seed.value))
	}
	k := &KafkaSignals{cfg: KafkaSignalConfig{Key: "shop"}, logger: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		ks := k.parse(&kgo.Record{Key: []byte(key), Value: value, Offset: 3})
		if ks.sig == nil {
			return
		}
		if key != "shop" || ks.sig.Type == "" || ks.sig.ID == "" {
			t.Fatalf("record %q %q gave signal %+v", key, value, ks.sig)
		}
		for _, typ := range []string{SignalExecuteSnapshot, SignalStopSnapshot} {
			req, err := parseSnapshotRequest(connectors.Signal{ID: ks.sig.ID, Type: typ, Data: ks.sig.Data})
			if err != nil {
				if err.Error() == "" {
					t.Fatal("an error without a message")
				}
				continue
			}
			if req.Type != "incremental" && req.Type != "blocking" {
				t.Fatalf("%s %s: snapshot type %q", typ, ks.sig.Data, req.Type)
			}
			if typ == SignalExecuteSnapshot && len(req.Tables) == 0 {
				t.Fatalf("%s %s: a snapshot of no table", typ, ks.sig.Data)
			}
			for _, c := range req.Conditions {
				if c.Table == "" || strings.TrimSpace(c.Filter) == "" {
					t.Fatalf("%s %s: condition %+v", typ, ks.sig.Data, c)
				}
			}
		}
	})
}
