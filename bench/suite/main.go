// Command suite is `make bench`: it runs every workload of bench/ — the
// Postgres and MariaDB drains (sluice, the ceilings and Debezium in the
// same run), their steady loads, Kafka → Elasticsearch and Kafka → SSE —
// each -runs times, writes every run's figures to
// bench/results/<date>-<commit>.json and generates bench/REPORT.md with
// its charts from that file. With BENCH_QUICK=1 (or -quick) it runs the
// same workloads with small sizes, in a few minutes, to check the
// harness. -from regenerates the report from a results file without
// running anything. It expects to be the only benchmark running: first it
// drops the replication slots and databases that killed runs left on the
// Postgres server. See bench/README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/pgdb"
)

type options struct {
	quick   bool
	runs    int
	only    string
	results string // directory of the results files
	report  string // the report's path; its charts go to report/ beside it
	from    string
	command string        // how the suite was started, for the report
	timeout time.Duration // of each workload's command
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", os.Getenv("BENCH_QUICK") == "1", "small sizes, a few minutes (default: BENCH_QUICK=1)")
	flag.IntVar(&o.runs, "runs", 0, "runs of each workload (default 3, quick 2)")
	flag.StringVar(&o.only, "only", "", "run only these workloads, comma separated (names as in the report)")
	flag.StringVar(&o.results, "results", "bench/results", "directory of the results files")
	flag.StringVar(&o.report, "report", "bench/REPORT.md", "the report to generate; its charts go to a report/ directory beside it")
	flag.StringVar(&o.from, "from", "", "generate the report from this results file, running nothing")
	flag.StringVar(&o.command, "command", "go run ./bench/suite", "how the suite was started, as the report states it")
	flag.DurationVar(&o.timeout, "timeout", 0, "how long each workload may take before it is stopped and reported failed (default 3h, quick 5m)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/suite:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.from != "" {
		var res results
		b, err := os.ReadFile(o.from)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: %w", o.from, err)
		}
		return writeReport(o.report, o.from, &res)
	}
	if o.runs == 0 {
		o.runs = 3
		if o.quick {
			o.runs = 2
		}
	}
	if o.timeout == 0 {
		o.timeout = 3 * time.Hour
		if o.quick {
			o.timeout = 5 * time.Minute
		}
	}
	ws := workloads(o.quick)
	if o.only != "" {
		names := strings.Split(o.only, ",")
		known := make([]string, len(ws))
		for i, w := range ws {
			known[i] = w.Name
		}
		ws = slices.DeleteFunc(ws, func(w workload) bool { return !slices.Contains(names, w.Name) })
		if len(ws) == 0 {
			return fmt.Errorf("-only %q names no workload of the suite; name some of %s", o.only, strings.Join(known, ", "))
		}
	}
	if pg := os.Getenv("SLUICE_TEST_PG_URL"); pg != "" {
		slots, dbs, err := pgdb.DropLeftovers(ctx, pg, "bench")
		if err != nil {
			return fmt.Errorf("drop what killed benchmark runs left: %w", err)
		}
		if len(slots)+len(dbs) > 0 {
			logf("dropped what killed benchmark runs left: replication slots %v, databases %v", slots, dbs)
		}
	}
	res := newResults(o)
	var path string // of the results file
	bin, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	for _, w := range ws {
		if _, err := os.Stat(filepath.Join(bin, w.Bench)); err == nil {
			continue
		}
		logf("building bench/%s", w.Bench)
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, w.Bench), "./bench/"+w.Bench)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build bench/%s: %w", w.Bench, err)
		}
	}
	for _, w := range ws {
		args := w.Args
		if o.quick {
			args = w.QuickArgs
		}
		args = append(slices.Clone(args), "-runs", fmt.Sprint(o.runs))
		r := workloadResult{Name: w.Name, Title: w.Title, Command: strings.Join(append([]string{"bench/" + w.Bench}, args...), " ")}
		logf("%s: %s", w.Name, r.Command)
		start := time.Now()
		r.Runs, err = runBench(ctx, filepath.Join(bin, w.Bench), args, o.runs, o.timeout)
		r.Seconds = time.Since(start).Seconds()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.Error = err.Error()
			logf("%s failed: %v", w.Name, err)
		}
		res.Workloads = append(res.Workloads, r)
		// Written after each workload, so that a suite stopped part way
		// leaves the figures of the workloads it finished (-from makes
		// their report).
		res.finish()
		if path, err = res.write(o.results); err != nil {
			return err
		}
	}
	logf("results in %s", path)
	if err := writeReport(o.report, path, res); err != nil {
		return err
	}
	logf("report in %s", o.report)
	var failed []string
	for _, w := range res.Workloads {
		if w.Error != "" {
			failed = append(failed, w.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("workloads failed: %s (the report says why)", strings.Join(failed, ", "))
	}
	return nil
}

// runBench runs a benchmark binary with args and returns the figures of
// its runs: the first runs JSON lines it prints (a last line of medians
// follows, which the report computes again with the ranges). Its stderr
// is the suite's; the error of a failed run ends with the benchmark's
// own error line. After timeout it is stopped (SIGTERM, which makes it
// clean up) and fails.
func runBench(ctx context.Context, bin string, args []string, runs int, timeout time.Duration) ([]map[string]any, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("stopped after %s", timeout))
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var said errorLine
	cmd.Stderr = io.MultiWriter(os.Stderr, &said)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var got []map[string]any
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(got) == runs || len(line) == 0 || line[0] != '{' {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal(line, &m); err != nil {
			return got, fmt.Errorf("decode %q: %w", line, err)
		}
		got = append(got, m)
	}
	err = cmd.Wait()
	if context.Cause(ctx) != nil {
		err = context.Cause(ctx)
	}
	if err == nil && len(got) < runs {
		err = errors.New("fewer runs printed than asked")
	}
	if err != nil && said.line != "" {
		err = fmt.Errorf("%w: %s", err, said.line)
	}
	return got, err
}

// errorLine keeps the last line written to it that starts with "bench/":
// a benchmark's error, as it prints it before exiting.
type errorLine struct {
	partial []byte
	line    string
}

func (e *errorLine) Write(p []byte) (int, error) {
	e.partial = append(e.partial, p...)
	for {
		i := bytes.IndexByte(e.partial, '\n')
		if i < 0 {
			break
		}
		if line := string(e.partial[:i]); strings.HasPrefix(line, "bench/") {
			e.line = line
		}
		e.partial = e.partial[i+1:]
	}
	if len(e.partial) > 64<<10 { // a line that long is no error line
		e.partial = e.partial[:0]
	}
	return len(p), nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+"bench/suite: "+format+"\n", args...)
}
