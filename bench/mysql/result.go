package main

import (
	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/sourcebench"
)

// result is one run's figures, printed as one JSON line. Figures that a
// workload does not measure are left out.
type result struct {
	sourcebench.Figures

	ServerCPU float64 `json:"server_cpu_s"` // CPU of the whole mariadbd process in the measured window
	BrokerCPU float64 `json:"broker_cpu_s"` // CPU of the local Kafka broker in the measured window

	// drain: the backlog and the ceilings.
	BinlogMB             float64 `json:"binlog_mb,omitempty"`          // binlog written by the backlog, MiB
	BacklogWriteSeconds  float64 `json:"backlog_write_s,omitempty"`    // time to write the backlog
	CeilingWallSeconds   float64 `json:"ceiling_wall_s,omitempty"`     // mariadb-binlog --raw, start to exit
	CeilingRowsPerSecond float64 `json:"ceiling_rows_per_s,omitempty"` // rows / ceiling wall
	CeilingMB            float64 `json:"ceiling_mb,omitempty"`         // binlog bytes mariadb-binlog --raw received, MiB
	PercentOfCeiling     float64 `json:"pct_of_ceiling,omitempty"`     // sluice rows/s as % of mariadb-binlog --raw's
	DecodeWallSeconds    float64 `json:"decode_wall_s,omitempty"`      // mariadb-binlog decoding rows to /dev/null, start to exit
	DecodeRowsPerSecond  float64 `json:"decode_rows_per_s,omitempty"`  // rows / decode wall
	DecodeCPU            float64 `json:"decode_cpu_s,omitempty"`       // CPU of mariadb-binlog decoding
	PercentOfDecode      float64 `json:"pct_of_decode,omitempty"`      // sluice rows/s as % of decoding mariadb-binlog's
	baseline.Debezium            // with -debezium

	// drain: sluice's records produced again to a fresh topic, Kafka alone.
	sourcebench.ProducerCeiling

	// steady: client commit → Kafka append latency, in milliseconds.
	TargetRate   float64 `json:"target_rows_per_s,omitempty"`
	Transactions float64 `json:"transactions,omitempty"`
	CommitRTTP50 float64 `json:"commit_rtt_p50_ms,omitempty"` // the COMMIT's round trip: the resolution of the commit time
	CommitRTTP99 float64 `json:"commit_rtt_p99_ms,omitempty"`
	sourcebench.Latency
}

// derive fills the figures computed from others.
func (r *result) derive() {
	r.Derive()
	r.CeilingRowsPerSecond, r.PercentOfCeiling = r.Against(r.CeilingWallSeconds)
	r.Compare(&r.Figures)
	r.DecodeRowsPerSecond, r.PercentOfDecode = r.Against(r.DecodeWallSeconds)
}
