package kafkatest_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
)

// TestClientsAndTopics produces a record with one client and reads it back
// with another made with consumer options, in a subtest that registers the
// deletion of the topics with its prefix; after the subtest those topics are
// gone and a topic outside the prefix is still there.
func TestClientsAndTopics(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	prefix := testenv.Name(t, "kafkatest")
	kept := prefix + "x" // does not start with prefix + "."
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(kafkatest.NewClient(t, brokers))
	t.Cleanup(func() { adm.DeleteTopics(context.Background(), kept) })

	t.Run("test", func(t *testing.T) {
		kafkatest.DeleteTopicsAtCleanup(t, brokers, func(name string) bool { return strings.HasPrefix(name, prefix+".") })
		if _, err := adm.CreateTopics(ctx, 1, 1, nil, prefix+".a", prefix+".b", kept); err != nil {
			t.Fatal(err)
		}
		producer := kafkatest.NewClient(t, brokers, kgo.DefaultProduceTopic(prefix+".a"))
		if err := producer.ProduceSync(ctx, &kgo.Record{Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		consumer := kafkatest.NewClient(t, brokers, kgo.ConsumeTopics(prefix+".a"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		var recs []*kgo.Record
		for len(recs) == 0 && ctx.Err() == nil {
			fs := consumer.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatal(err)
			}
			recs = fs.Records()
		}
		if len(recs) != 1 || string(recs[0].Key) != "k" || string(recs[0].Value) != "v" {
			t.Fatalf("read %d records, want one with key k and value v", len(recs))
		}
	})

	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		left = nil
		for _, name := range topics.Names() {
			if strings.HasPrefix(name, prefix) {
				left = append(left, name)
			}
		}
		if slices.Equal(left, []string{kept}) {
			return
		}
	}
	t.Errorf("topics after the test: %q, want only %q", left, kept)
}
