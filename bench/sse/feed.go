package main

import (
	"context"
	"time"
)

// Where the deliver workload's events come from (-source).
const (
	// sourceKafka: the driver produces the records with sluice's Kafka
	// writer; latency is measured from when each record was made.
	sourceKafka = "kafka"
	// sourcePostgres: the driver commits rows to Postgres and a `sluice
	// run` daemon with the Postgres source connector streams them to
	// Kafka; latency is measured from each row's commit.
	sourcePostgres = "postgres"
)

// feed writes the events of a run into its topic: rows of benchTable, each
// numbered by its id, 0 for the first event and 1..n for the load. A feed
// is used from one goroutine.
type feed interface {
	// first writes event 0 and returns once the topic holds it.
	first(ctx context.Context) error
	// load writes events 1..n, rate a second from t0, and sets origins[id]
	// to each event's origin time in nanoseconds since t0: the moment the
	// latency is measured from. It returns how many events it wrote,
	// including when it fails.
	load(ctx context.Context, t0 time.Time, rate, n int, origins []int64) (int, error)
	// close stops what the feed started and removes what it created,
	// logging failures.
	close()
}

// sourceCPU is a feed whose source runs in a process of its own.
type sourceCPU interface {
	// cpu returns the CPU time the source process has used.
	cpu() (time.Duration, error)
}
