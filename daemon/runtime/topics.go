package runtime

import "github.com/twmb/franz-go/pkg/kgo"

// topicHooks are the client hooks that record a connector's active topics
// (Env.RecordTopic): every topic a source's client wrote a batch to, or a
// sink's client fetched a batch of records from. They are called per batch
// by the client's goroutines; the daemon's recording is cheap for a topic
// it has already. A sink's dead-letter topic, written by the same client,
// is not one of its topics.
func topicHooks(kind string, record func(topic string)) []kgo.Opt {
	if record == nil {
		return nil
	}
	if kind == "source" {
		return []kgo.Opt{kgo.WithHooks(producedTopics(record))}
	}
	return []kgo.Opt{kgo.WithHooks(fetchedTopics(record))}
}

type producedTopics func(string)

func (f producedTopics) OnProduceBatchWritten(_ kgo.BrokerMetadata, topic string, _ int32, _ kgo.ProduceBatchMetrics) {
	f(topic)
}

type fetchedTopics func(string)

func (f fetchedTopics) OnFetchBatchRead(_ kgo.BrokerMetadata, topic string, _ int32, m kgo.FetchBatchMetrics) {
	if m.NumRecords > 0 {
		f(topic)
	}
}
