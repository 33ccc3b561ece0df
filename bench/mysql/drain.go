package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/bench/internal/baseline"
	"github.com/sluice-cdc/sluice/bench/internal/figures"
	"github.com/sluice-cdc/sluice/bench/internal/pipeline"
	"github.com/sluice-cdc/sluice/internal/procstat"
)

// runDrain measures how fast sluice drains a backlog of -rows inserted
// rows already in the binlog, how fast mariadb-binlog reads the same
// binlog, and with -debezium how fast Debezium drains it.
func (o *options) runDrain(ctx context.Context, run int) (result, error) {
	var r result
	e, err := newRunEnv(ctx, o, "drain", run)
	if err != nil {
		return r, err
	}
	defer e.close()

	// sluice stores its start position on a first start (snapshot.mode
	// no_data: the end of the binlog); stop it once it has, so that the
	// backlog accumulates behind that position.
	c, err := e.StartChild(ctx, "")
	if err != nil {
		return r, err
	}
	if err := c.WaitRunning(ctx, 60*time.Second); err != nil {
		c.Kill()
		return r, err
	}
	if _, _, err := c.Stop(); err != nil {
		return r, err
	}
	if stored, err := pipeline.Stored(e.StateDir); err != nil || len(stored) == 0 {
		return r, fmt.Errorf("the source reported running but stored no offsets (%v)", err)
	}
	if e.workers != nil {
		o.Logf("run %d: Debezium's connectors take their positions", run)
		err := e.workers.Prepare(ctx, e.Kafka, e.dbz, func(n int) error {
			_, err := e.db.Execute(fmt.Sprintf("INSERT INTO marker VALUES (%d)", n))
			return err
		})
		if err != nil {
			return r, err
		}
	}
	start, err := masterStatus(e.admin)
	if err != nil {
		return r, err
	}

	o.Logf("run %d: writing %d rows", run, o.Rows)
	t0 := time.Now()
	if err := writeRows(e.db, 1, int64(o.Rows)+1, o.insertBatch); err != nil {
		return r, err
	}
	r.BacklogWriteSeconds = time.Since(t0).Seconds()
	end, err := masterStatus(e.admin)
	if err != nil {
		return r, err
	}
	n, err := binlogBytes(e.admin, start, end)
	if err != nil {
		return r, err
	}
	r.BinlogMB = float64(n) / (1 << 20)
	r.Rows = float64(o.Rows)

	for _, kind := range strings.Split(o.ceilings, ",") {
		switch kind = strings.TrimSpace(kind); kind {
		case "raw":
			o.Logf("run %d: mariadb-binlog --raw reads %.0f MiB of binlog from %s:%d", run, r.BinlogMB, start.file, start.pos)
			wall, bytes, _, err := ceiling(ctx, o, e, start, true)
			if err != nil {
				return r, err
			}
			r.CeilingWallSeconds, r.CeilingMB = wall.Seconds(), float64(bytes)/(1<<20)
		case "decode":
			o.Logf("run %d: mariadb-binlog decodes %.0f MiB of binlog's rows to /dev/null", run, r.BinlogMB)
			wall, _, cpu, err := ceiling(ctx, o, e, start, false)
			if err != nil {
				return r, err
			}
			r.DecodeWallSeconds, r.DecodeCPU = wall.Seconds(), cpu.Seconds()
		case "", "none":
		default:
			return r, fmt.Errorf("-ceiling %q: want raw, decode or none", kind)
		}
	}

	o.Logf("run %d: sluice drains the backlog", run)
	if c, err = e.StartChild(ctx, figures.RunFile(o.CPUProfile, run)); err != nil {
		return r, err
	}
	cpu, err := e.Measure(c, procstat.BeginListener(e.srv.addr())).Drained(ctx, &r.Figures)
	r.ServerCPU, r.BrokerCPU = cpu.Database, cpu.Broker
	if err != nil {
		return r, err
	}
	if err := e.Producer(ctx, run, &r.Figures, &r.ProducerCeiling); err != nil {
		return r, err
	}
	r.derive()
	if e.workers != nil {
		err = e.workers.DrainAll(ctx, e.Kafka, e.dbz, int64(o.Rows), r.RowsPerSecond, &r.Debezium, func(v baseline.Variant) {
			o.Logf("run %d: Debezium %s drains the backlog", run, v)
		})
	}
	return r, err
}

// ceiling reads the binlog from start to its end with mariadb-binlog
// --read-from-remote-server --to-last-log: with raw, --raw into files of a
// temporary directory (the binlog as sent, not decoded); otherwise with
// --base64-output=decode-rows --verbose, which decodes every row of every
// rows event into commented pseudo-SQL with each column's value, on
// /dev/null (the tool's own reading of the rows, as sluice must). It
// returns the wall time from exec to exit, the bytes of the raw files, and
// the tool's CPU time. Without --stop-never the server sends what its
// binlog holds when asked and the tool exits at its end.
func ceiling(ctx context.Context, o *options, e *runEnv, start binlogPos, raw bool) (time.Duration, int64, time.Duration, error) {
	args := []string{"--read-from-remote-server", "--host", e.srv.host, "--port", strconv.Itoa(e.srv.port),
		"--user", e.srv.user, "--start-position", strconv.FormatInt(start.pos, 10), "--to-last-log"}
	var dir string
	if raw {
		var err error
		if dir, err = os.MkdirTemp(e.Dir, "raw-"); err != nil {
			return 0, 0, 0, err
		}
		defer os.RemoveAll(dir)
		args = append(args, "--raw", "--result-file="+dir+"/")
	} else {
		args = append(args, "--base64-output=decode-rows", "--verbose")
	}
	cmd := exec.CommandContext(ctx, o.binlogTool, append(args, start.file)...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+e.srv.password)
	cmd.Stderr = os.Stderr // cmd.Stdout nil: /dev/null
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %w", o.binlogTool, err)
	}
	wall := time.Since(t0)
	var cpu time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var bytes int64
	if raw {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				bytes += st.Size()
			}
		}
	}
	return wall, bytes, cpu, nil
}
