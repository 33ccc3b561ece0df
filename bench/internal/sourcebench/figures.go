package sourcebench

import (
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
)

// Figures are what every run reports of the sluice pipeline (the child
// process). A benchmark's result embeds them first, its database's figures
// after, and Latency last; figures a workload does not measure are left
// out.
type Figures struct {
	Workload string `json:"workload"`
	Run      string `json:"run"`

	Rows          float64 `json:"rows"`         // rows changed in the measured window
	Records       float64 `json:"records"`      // Kafka records written (tombstones included)
	WallSeconds   float64 `json:"wall_s"`       // drain: sluice start to last record in Kafka; steady: load duration
	RowsPerSecond float64 `json:"rows_per_s"`   // rows / wall
	CPUSeconds    float64 `json:"cpu_s"`        // user+system CPU of the pipeline process
	CPUPerMillion float64 `json:"cpu_s_per_1m"` // CPU seconds per 1M rows
	PeakRSSMB     float64 `json:"peak_rss_mb"`  // the pipeline process's VmHWM, MiB
}

func (f *Figures) label(workload, run string) { f.Workload, f.Run = workload, run }

// Stop stops the pipeline child c and keeps the CPU time it used after
// reporting ready and its peak RSS.
func (f *Figures) Stop(c *pipeline.Child) error {
	cpu, rss, err := c.Stop()
	if err != nil {
		return err
	}
	f.CPUSeconds = cpu.Seconds()
	f.PeakRSSMB = float64(rss) / (1 << 20)
	return nil
}

// Derive fills the figures computed from others.
func (f *Figures) Derive() {
	if f.WallSeconds > 0 {
		f.RowsPerSecond = f.Rows / f.WallSeconds
	}
	if f.Rows > 0 {
		f.CPUPerMillion = f.CPUSeconds / f.Rows * 1e6
	}
}

// Against compares sluice with a reader of the same backlog that took
// wall seconds (a ceiling): it returns that reader's rows/s and sluice's
// rows/s as a percentage of it, both 0 without a wall time. Call it after
// Derive.
func (f *Figures) Against(wall float64) (rowsPerSecond, percent float64) {
	if wall <= 0 {
		return 0, 0
	}
	rowsPerSecond = f.Rows / wall
	return rowsPerSecond, 100 * f.RowsPerSecond / rowsPerSecond
}

// Latency are the steady workload's commit → Kafka append latencies, in
// milliseconds.
type Latency struct {
	LatencySamples float64 `json:"latency_samples,omitempty"`
	LatencyP50     float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99     float64 `json:"latency_p99_ms,omitempty"`
	LatencyMax     float64 `json:"latency_max_ms,omitempty"`
}

// Set takes the figures of the sorted samples lat.
func (l *Latency) Set(lat *figures.Latencies) {
	l.LatencySamples = float64(lat.Len())
	l.LatencyP50, l.LatencyP99, l.LatencyMax = lat.Quantile(0.50), lat.Quantile(0.99), lat.Quantile(1)
}
