package main

import (
	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
)

// result is one run's figures, printed as one JSON line. Figures that a
// workload does not measure are left out.
type result struct {
	sourcebench.Figures

	WalsenderCPU float64 `json:"walsender_cpu_s,omitempty"` // CPU of the walsender decoding for sluice (not snapshot)
	BrokerCPU    float64 `json:"broker_cpu_s"`              // CPU of the local Kafka broker in the measured window

	// drain: the backlog and the ceiling; snapshot: the ceiling.
	WALMB                float64 `json:"wal_mb,omitempty"`             // WAL written by the backlog, MiB
	BacklogWriteSeconds  float64 `json:"backlog_write_s,omitempty"`    // time to write the backlog
	CeilingWallSeconds   float64 `json:"ceiling_wall_s,omitempty"`     // drain: pg_recvlogical from start to --endpos; snapshot: COPY TO STDOUT
	CeilingRowsPerSecond float64 `json:"ceiling_rows_per_s,omitempty"` // rows / ceiling wall
	CeilingWalsenderCPU  float64 `json:"ceiling_walsender_cpu_s,omitempty"`
	PercentOfCeiling     float64 `json:"pct_of_ceiling,omitempty"` // sluice rows/s as % of the ceiling's
	baseline.Debezium            // drain and snapshot, with -debezium

	// drain: sluice's records produced again to a fresh topic, Kafka alone.
	sourcebench.ProducerCeiling

	// incremental: the initial snapshot of the table, then an incremental
	// one while the steady load streams; the latency is that of the
	// changes committed while the incremental snapshot ran.
	LoadAverage              float64 `json:"load_avg_1m,omitempty"` // the host's, when the run began
	InitialSeconds           float64 `json:"initial_snapshot_s,omitempty"`
	InitialRowsPerSecond     float64 `json:"initial_snapshot_rows_per_s,omitempty"`
	IncrementalRows          float64 `json:"incremental_snapshot_rows,omitempty"` // rows the incremental snapshot handed on
	IncrementalSeconds       float64 `json:"incremental_snapshot_s,omitempty"`    // signal committed to last chunk durable
	IncrementalRowsPerSecond float64 `json:"incremental_snapshot_rows_per_s,omitempty"`
	PercentOfInitial         float64 `json:"incremental_pct_of_initial,omitempty"`

	// steady and incremental: commit → Kafka append latency, in milliseconds.
	TargetRate float64 `json:"target_rows_per_s,omitempty"`
	sourcebench.Latency
}

// derive fills the figures computed from others.
func (r *result) derive() {
	r.Derive()
	r.CeilingRowsPerSecond, r.PercentOfCeiling = r.Against(r.CeilingWallSeconds)
	r.Compare(&r.Figures)
}
