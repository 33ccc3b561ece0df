package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/api"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// daemonFlags are the flags run and validate share.
type daemonFlags struct {
	config        string
	connectorsDir string
}

// parseDaemonFlags parses the flags of run or validate. --help prints the
// usage on stdout, so that it can be paged; a bad flag is a usageError
// that points at --help.
func parseDaemonFlags(name, summary string, args []string, stdout io.Writer) (daemonFlags, error) {
	var f daemonFlags
	fs := newFlagSet(name)
	fs.StringVar(&f.config, "config", "", "daemon config file (JSON); settings may also come from SLUICE_* environment variables")
	fs.StringVar(&f.connectorsDir, "connectors-dir", "", "directory of connector files (*.json, each {\"name\", \"config\"}); overrides connectors.dir")
	err := parseFlags(fs, args, stdout, func() {
		fmt.Fprintf(stdout, "Usage: sluice %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
		fmt.Fprintf(stdout, "\nSettings (config file key, environment variable that overrides it, default):\n")
		for _, s := range config.Settings() {
			fmt.Fprintf(stdout, "  %-40s %-45s %s\n", s.Path, s.Env, s.Default)
		}
	})
	if err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Errorf("%s: unexpected argument %q (see 'sluice %s --help')", name, fs.Arg(0), name)}
	}
	return f, nil
}

// newFlagSet returns a flag set that prints nothing itself: parseFlags
// decides where the usage and the errors go.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs. On -h or --help it calls usage, which
// writes to stdout, with fs's defaults printed there too, and returns
// flag.ErrHelp; any other failure is a usageError naming the command.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, usage func()) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		usage()
		return err
	}
	if err != nil {
		return usageError{fmt.Errorf("%s: %w (see 'sluice %s --help')", fs.Name(), err, fs.Name())}
	}
	return nil
}

// loaded is a checked daemon configuration with its connector files.
type loaded struct {
	daemon *config.Daemon
	files  []config.Connector
}

// load reads and checks the daemon config, then every connector file, and
// returns every problem found in either.
func load(f daemonFlags) (loaded, config.Problems) {
	var ps config.Problems
	d, err := config.Load(f.config, os.Environ())
	resolver := &config.Resolver{LookupEnv: os.LookupEnv}
	if err != nil {
		switch {
		case isConnectorFile(f.config):
			ps = config.Problems{{File: f.config, Message: `looks like a connector file ({"name", "config"}), not a daemon config: pass its directory with --connectors-dir (and a daemon config, if you have one, with --config)`}}
		case !errors.As(err, &ps):
			ps = config.Problems{{File: f.config, Message: err.Error()}}
		}
	} else {
		resolver = config.NewResolver(d)
	}
	dir := f.connectorsDir
	if dir == "" && d != nil {
		dir = d.ConnectorsDir
	}
	var files []config.Connector
	if dir != "" {
		var fps config.Problems
		files, fps = config.LoadDir(dir)
		ps = append(ps, fps...)
		for _, c := range files {
			_, cps := config.Check(c, resolver)
			ps = append(ps, cps...)
		}
	}
	if d != nil && f.connectorsDir != "" {
		d.ConnectorsDir = f.connectorsDir
	}
	return loaded{daemon: d, files: files}, ps
}

// isConnectorFile reports whether the file at path is a JSON object with a
// name and a config object, as connector files are.
func isConnectorFile(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var file struct {
		Name   *string
		Config map[string]any
	}
	return json.Unmarshal(data, &file) == nil && file.Name != nil && file.Config != nil
}

func printProblems(w io.Writer, ps config.Problems) error {
	for _, p := range ps {
		fmt.Fprintln(w, p.Error())
	}
	return usageError{fmt.Errorf("%d problem(s) in the configuration", len(ps))}
}

func validate(args []string, stdout, stderr io.Writer) error {
	f, err := parseDaemonFlags("validate", "Check the daemon config and connector files without starting anything.", args, stdout)
	if err != nil {
		return err
	}
	l, ps := load(f)
	if len(ps) > 0 {
		return printProblems(stdout, ps)
	}
	for _, w := range l.daemon.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	names := make([]string, len(l.files))
	for i, c := range l.files {
		names[i] = c.Name
	}
	src := f.config
	if src == "" {
		src = "defaults and environment"
	}
	fmt.Fprintf(stdout, "ok: daemon config (%s) and %d connector(s)", src, len(l.files))
	if len(names) > 0 {
		fmt.Fprintf(stdout, ": %s", strings.Join(names, ", "))
	}
	fmt.Fprintln(stdout)
	return nil
}

// newLoggers returns the daemon's loggers writing to w, in log.format, the
// root logger at log.level; the REST API's /admin/loggers changes levels.
func newLoggers(d *config.Daemon, w io.Writer) *daemon.Loggers {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[d.Log.Level]
	opts := &slog.HandlerOptions{Level: slog.Level(math.MinInt)} // the loggers' levels decide
	if d.Log.Format == "text" {
		return daemon.NewLoggers(slog.NewTextHandler(w, opts), level)
	}
	return daemon.NewLoggers(slog.NewJSONHandler(w, opts), level)
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseDaemonFlags("run", "Start the daemon: REST API, connectors and sinks. SIGTERM or SIGINT drains and stops it; a second one exits at once. SIGHUP reloads the connector files.", args, stdout)
	if err != nil {
		return err
	}
	// Signals are counted here: the first starts a graceful shutdown, a
	// second ends the process at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	l, ps := load(f)
	if len(ps) > 0 {
		return printProblems(stderr, ps)
	}
	d := l.daemon
	loggers := newLoggers(d, stderr)
	log := loggers.Logger(daemon.DaemonLogger)
	for _, w := range d.Warnings {
		log.Warn(w)
	}
	st, cl, err := openStore(ctx, d, log)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	workers, groups, release, err := newRuntime(ctx, d, loggers.Logger(daemon.RuntimeLogger), reg)
	if err != nil {
		cl.release(func() error { return nil })()
		return fmt.Errorf("start the connector runtime: %w", err)
	}
	release = cl.release(release)
	ln, err := net.Listen("tcp", d.REST.Listen)
	if err != nil {
		release()
		return fmt.Errorf("listen on rest.listen %s: %w", d.REST.Listen, err)
	}
	resolver := config.NewResolver(d)
	sup, err := daemon.New(daemon.Options{
		Store: st, Workers: workers, Resolver: resolver,
		WorkDir: filepath.Join(d.StateDir, "work"), Version: version, WorkerID: workerID(ln.Addr()),
		Logger: log, StopTimeout: d.ShutdownTimeout(), Loggers: loggers, Groups: groups, Shared: cl.shared(),
	})
	if err != nil {
		ln.Close()
		release()
		return err
	}
	restLog := loggers.Logger(daemon.RESTLogger)
	srv, err := api.NewServer(api.New(sup, api.Options{Version: version, Auth: d.REST.Auth, Resolver: resolver, Logger: restLog, Metrics: reg}), d.REST, restLog)
	if err != nil {
		ln.Close()
		release()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("REST API listening", "addr", ln.Addr().String(), "tls", d.REST.TLS != nil, "auth", d.REST.Auth != nil)

	if err := sup.Start(ctx, l.files); err != nil {
		shutdown(context.Background(), log, srv, sup, release, d.ShutdownTimeout())
		var ps config.Problems
		if errors.As(err, &ps) {
			return printProblems(stderr, ps)
		}
		return err
	}
	if err := cl.join(sup, workerID(ln.Addr())); err != nil {
		shutdown(context.Background(), log, srv, sup, release, d.ShutdownTimeout())
		return err
	}

	var signals int
	for {
		select {
		case <-hup:
			reload(ctx, log, sup, d.ConnectorsDir)
			continue
		case err := <-served:
			shutdown(context.Background(), log, srv, sup, release, d.ShutdownTimeout())
			return fmt.Errorf("REST API stopped: %w", err)
		case sig := <-sigs:
			signals++
			log.Info("signal received; shutting down", "signal", sig.String(), "timeout", d.ShutdownTimeout().String())
		case <-ctx.Done():
			// The same signal may be on its way to sigs too: name it if so.
			select {
			case sig := <-sigs:
				signals++
				log.Info("signal received; shutting down", "signal", sig.String(), "timeout", d.ShutdownTimeout().String())
			case <-time.After(50 * time.Millisecond):
				log.Info("shutting down", "timeout", d.ShutdownTimeout().String())
			}
		}
		break
	}
	done := make(chan error, 1)
	go func() { done <- shutdown(context.Background(), log, srv, sup, release, d.ShutdownTimeout()) }()
	for {
		select {
		case err := <-done:
			return err
		case sig := <-sigs:
			if signals++; signals >= 2 {
				return fmt.Errorf("second signal (%s): exiting without waiting for connectors to stop", sig)
			}
		}
	}
}

// shutdown stops the REST API, then every connector, within timeout, then
// releases the runtime.
func shutdown(ctx context.Context, log *slog.Logger, srv *api.Server, sup *daemon.Supervisor, release func() error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	began := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("REST API did not close cleanly", "error", err.Error())
	}
	err := sup.Shutdown(ctx)
	if rerr := release(); rerr != nil && err == nil {
		err = fmt.Errorf("release the connector runtime: %w", rerr)
	}
	if err != nil {
		return err
	}
	log.Info("stopped", "took", time.Since(began).String())
	return nil
}

// reload re-reads the connector files and applies them; on any problem it
// logs every one and changes nothing.
func reload(ctx context.Context, log *slog.Logger, sup *daemon.Supervisor, dir string) {
	if dir == "" {
		log.Info("SIGHUP: no connectors directory configured; nothing to reload")
		return
	}
	files, ps := config.LoadDir(dir)
	if len(ps) == 0 {
		err := sup.SyncFiles(ctx, files)
		if err == nil {
			log.Info("SIGHUP: connector files reloaded", "dir", dir, "connectors", len(files))
			return
		}
		if !errors.As(err, &ps) {
			log.Error("SIGHUP: reloading the connector files failed", "dir", dir, "error", err.Error())
			return
		}
	}
	for _, p := range ps {
		log.Error("SIGHUP: invalid connector file; nothing reloaded", "problem", p.Error())
	}
}

// workerID names this daemon in connector status: host:port of the REST
// listener.
func workerID(addr net.Addr) string {
	host, _ := os.Hostname()
	if tcp, ok := addr.(*net.TCPAddr); ok && host != "" {
		return fmt.Sprintf("%s:%d", host, tcp.Port)
	}
	return addr.String()
}
