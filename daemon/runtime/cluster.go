package runtime

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// KafkaOpts are the client options that reach the external Kafka cluster
// k names (seed brokers, SASL, TLS), for the storage topics and the group
// of cluster mode.
func KafkaOpts(k config.Kafka) ([]kgo.Opt, error) {
	opts, err := clientOpts(k)
	if err != nil {
		return nil, err
	}
	return append(opts, kgo.SeedBrokers(conf.SplitList(k.BootstrapServers)...)), nil
}
