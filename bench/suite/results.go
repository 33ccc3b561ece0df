package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// results are what one suite run wrote: how, where and when it ran, and
// every run's figures of every workload as the benchmark printed them.
// The report is generated from them alone.
type results struct {
	Command   string `json:"command"`
	Quick     bool   `json:"quick"`
	Runs      int    `json:"runs"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified"` // the work tree had changes the commit lacks
	Started   string `json:"started"`
	Finished  string `json:"finished"`
	CPUs      int    `json:"cpus"`
	LoadStart string `json:"load_average_start"` // /proc/loadavg's 1, 5 and 15 minute averages
	LoadEnd   string `json:"load_average_end"`

	Workloads []workloadResult `json:"workloads"`
}

// workloadResult is one workload's runs.
type workloadResult struct {
	Name    string           `json:"name"`
	Title   string           `json:"title"`
	Command string           `json:"command"`
	Seconds float64          `json:"seconds"` // wall time of the whole command
	Runs    []map[string]any `json:"runs"`
	Error   string           `json:"error,omitempty"`
}

func newResults(o options) *results {
	commit := strings.TrimSpace(gitOutput("rev-parse", "--short", "HEAD"))
	return &results{
		Command: o.command, Quick: o.quick, Runs: o.runs,
		Commit: commit, Modified: gitOutput("status", "--porcelain", "--untracked-files=no") != "",
		Started: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), LoadStart: loadAverage(),
	}
}

func (r *results) finish() {
	r.Finished = time.Now().UTC().Format(time.RFC3339)
	r.LoadEnd = loadAverage()
}

// write writes r to dir/<date>-<commit>.json (-quick.json in quick mode)
// and returns the path.
func (r *results) write(dir string) (string, error) {
	name := r.Started[:10] + "-" + r.Commit
	if r.Quick {
		name += "-quick"
	}
	path := filepath.Join(dir, name+".json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

func gitOutput(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return "unknown"
	}
	return string(out)
}

// loadAverage is the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return fmt.Sprintf("%s %s %s", f[0], f[1], f[2])
}
