package main

// result is one run's figures, printed as one JSON line. Figures that a
// workload does not measure are left out.
type result struct {
	Workload string `json:"workload"`
	Run      string `json:"run"`

	// The sluice pipeline (the child process).
	Rows          float64 `json:"rows"`            // rows changed in the measured window
	Records       float64 `json:"records"`         // Kafka records written (tombstones included)
	WallSeconds   float64 `json:"wall_s"`          // drain: sluice start to last record in Kafka; steady: load duration
	RowsPerSecond float64 `json:"rows_per_s"`      // rows / wall
	CPUSeconds    float64 `json:"cpu_s"`           // user+system CPU of the pipeline process
	CPUPerMillion float64 `json:"cpu_s_per_1m"`    // CPU seconds per 1M rows
	PeakRSSMB     float64 `json:"peak_rss_mb"`     // the pipeline process's VmHWM, MiB
	WalsenderCPU  float64 `json:"walsender_cpu_s"` // CPU of the walsender decoding for sluice
	BrokerCPU     float64 `json:"broker_cpu_s"`    // CPU of the local Kafka broker in the measured window

	// drain: the backlog and the ceiling.
	WALMB                float64 `json:"wal_mb,omitempty"`             // WAL written by the backlog, MiB
	BacklogWriteSeconds  float64 `json:"backlog_write_s,omitempty"`    // time to write the backlog
	CeilingWallSeconds   float64 `json:"ceiling_wall_s,omitempty"`     // pg_recvlogical from start to --endpos
	CeilingRowsPerSecond float64 `json:"ceiling_rows_per_s,omitempty"` // rows / ceiling wall
	CeilingWalsenderCPU  float64 `json:"ceiling_walsender_cpu_s,omitempty"`
	PercentOfCeiling     float64 `json:"pct_of_ceiling,omitempty"` // sluice rows/s as % of pg_recvlogical's

	// steady: commit → Kafka append latency, in milliseconds.
	TargetRate     float64 `json:"target_rows_per_s,omitempty"`
	LatencySamples float64 `json:"latency_samples,omitempty"`
	LatencyP50     float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99     float64 `json:"latency_p99_ms,omitempty"`
	LatencyMax     float64 `json:"latency_max_ms,omitempty"`
}

// derive fills the figures computed from others.
func (r *result) derive() {
	if r.WallSeconds > 0 {
		r.RowsPerSecond = r.Rows / r.WallSeconds
	}
	if r.Rows > 0 {
		r.CPUPerMillion = r.CPUSeconds / r.Rows * 1e6
	}
	if r.CeilingWallSeconds > 0 {
		r.CeilingRowsPerSecond = r.Rows / r.CeilingWallSeconds
		r.PercentOfCeiling = 100 * r.RowsPerSecond / r.CeilingRowsPerSecond
	}
}
