// Package kafkatest gives integration tests franz-go clients of a Kafka
// cluster, closed when the test ends, and deletes the topics a test made.
//
// The functions take the brokers from the test: testenv.KafkaBrokers for
// the test Kafka, which skips or fails the test as testenv does when Kafka
// is missing, or an in-process cluster.
package kafkatest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// deleteWait bounds how long deleting a test's topics may take.
const deleteWait = 20 * time.Second

// NewClient returns a client of the seed brokers with the options opts,
// closed when the test ends. It fails the test when the options are invalid.
func NewClient(t testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(slices.Clip(opts), kgo.SeedBrokers(brokers...))...)
	if err != nil {
		t.Fatalf("kafkatest: client of %v: %v", brokers, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// DeleteTopicsAtCleanup registers a cleanup that deletes every topic of the
// cluster at brokers whose name match accepts, with a client of its own.
// Cleanups run last-in first-out: registered before the cleanups that stop
// what writes to the topics, it runs after them. A failure is logged, not
// failed: the test has been judged by then.
func DeleteTopicsAtCleanup(t testing.TB, brokers []string, match func(topic string) bool) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deleteWait)
		defer cancel()
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Logf("kafkatest: client of %v: %v", brokers, err)
			return
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Logf("kafkatest: list topics: %v", err)
			return
		}
		var drop []string
		for _, name := range topics.Names() {
			if match(name) {
				drop = append(drop, name)
			}
		}
		if len(drop) == 0 {
			return
		}
		res, err := adm.DeleteTopics(ctx, drop...)
		if err == nil {
			err = res.Error()
		}
		if err != nil {
			t.Logf("kafkatest: delete topics %v: %v", drop, err)
		}
	})
}
