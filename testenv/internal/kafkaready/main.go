// Command kafkaready waits until a Kafka cluster answers a metadata request
// with at least one broker and a controller, or a deadline passes. testenv/up.sh
// runs it after starting the test broker; it exits 0 when the broker is ready
// and 1 otherwise, printing only to stderr. With -scram-user, it then makes
// (or updates) that SCRAM-SHA-512 user, whom the SASL_SSL listener admits.
//
//	kafkaready -brokers 127.0.0.1:9092 -timeout 2m [-scram-user u -scram-password p]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "", "comma-separated seed brokers, host:port")
	timeout := flag.Duration("timeout", 2*time.Minute, "how long to wait for the cluster")
	scramUser := flag.String("scram-user", "", "a SCRAM-SHA-512 user to make once the cluster is ready")
	scramPassword := flag.String("scram-password", "", "the SCRAM user's password")
	flag.Parse()
	if *brokers == "" {
		fmt.Fprintln(os.Stderr, "kafkaready: -brokers is required")
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	md, err := waitReady(ctx, strings.Split(*brokers, ","))
	if err != nil {
		fmt.Fprintf(os.Stderr, "kafkaready: %s not ready after %s: %v\n", *brokers, *timeout, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "kafkaready: cluster %s ready: %d broker(s), controller %d\n",
		md.Cluster, len(md.Brokers), md.Controller)
	if *scramUser != "" {
		if err := upsertSCRAM(ctx, strings.Split(*brokers, ","), *scramUser, *scramPassword); err != nil {
			fmt.Fprintf(os.Stderr, "kafkaready: SCRAM user %s: %v\n", *scramUser, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "kafkaready: SCRAM-SHA-512 user %s ready\n", *scramUser)
	}
}

// upsertSCRAM makes or updates the SCRAM-SHA-512 credentials of user.
func upsertSCRAM(ctx context.Context, seeds []string, user, password string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512, Iterations: 8192, Password: password}})
	if err != nil {
		return err
	}
	return res.Error()
}

// waitReady polls the cluster's metadata until it lists a broker and a
// controller, or ctx ends.
func waitReady(ctx context.Context, seeds []string) (kadm.Metadata, error) {
	var lastErr error
	for {
		md, err := metadata(ctx, seeds)
		switch {
		case err != nil:
			lastErr = err
		case len(md.Brokers) == 0:
			lastErr = errors.New("metadata lists no broker")
		case md.Controller < 0:
			lastErr = errors.New("metadata names no controller")
		default:
			return md, nil
		}
		select {
		case <-ctx.Done():
			return kadm.Metadata{}, lastErr
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// metadata makes one metadata request with a fresh client, so a broker that
// was not listening yet is dialled again on the next attempt.
func metadata(ctx context.Context, seeds []string) (kadm.Metadata, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RetryTimeout(time.Second))
	if err != nil {
		return kadm.Metadata{}, fmt.Errorf("create client: %w", err)
	}
	defer cl.Close()
	reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return kadm.NewClient(cl).BrokerMetadata(reqCtx)
}
