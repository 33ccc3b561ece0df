package main

// result is one run's figures, printed as one JSON line. Figures that a
// workload does not measure are left out.
type result struct {
	Workload string `json:"workload"`
	Run      string `json:"run"`

	// The sluice pipeline (the child process).
	Rows          float64 `json:"rows"`         // rows changed in the measured window
	Records       float64 `json:"records"`      // Kafka records written (tombstones included)
	WallSeconds   float64 `json:"wall_s"`       // drain: sluice start to last record in Kafka; steady: load duration
	RowsPerSecond float64 `json:"rows_per_s"`   // rows / wall
	CPUSeconds    float64 `json:"cpu_s"`        // user+system CPU of the pipeline process
	CPUPerMillion float64 `json:"cpu_s_per_1m"` // CPU seconds per 1M rows
	PeakRSSMB     float64 `json:"peak_rss_mb"`  // the pipeline process's VmHWM, MiB
	ServerCPU     float64 `json:"server_cpu_s"` // CPU of the whole mariadbd process in the measured window
	BrokerCPU     float64 `json:"broker_cpu_s"` // CPU of the local Kafka broker in the measured window

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

	// steady: client commit → Kafka append latency, in milliseconds.
	TargetRate     float64 `json:"target_rows_per_s,omitempty"`
	Transactions   float64 `json:"transactions,omitempty"`
	CommitRTTP50   float64 `json:"commit_rtt_p50_ms,omitempty"` // the COMMIT's round trip: the resolution of the commit time
	CommitRTTP99   float64 `json:"commit_rtt_p99_ms,omitempty"`
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
	if r.DecodeWallSeconds > 0 {
		r.DecodeRowsPerSecond = r.Rows / r.DecodeWallSeconds
		r.PercentOfDecode = 100 * r.RowsPerSecond / r.DecodeRowsPerSecond
	}
}
