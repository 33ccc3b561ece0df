package daemon

import (
	"bytes"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestLoggerLevelsChangeWhileRunning(t *testing.T) {
	var out bytes.Buffer
	l := NewLoggers(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.Level(math.MinInt)}), slog.LevelInfo)
	a := l.Logger(ConnectorLogger("a")).With("connector", "a")
	b := l.Logger(ConnectorLogger("b"))
	daemonLog := l.Logger(DaemonLogger)
	lines := func() []string {
		defer out.Reset()
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if i := strings.Index(line, "level="); i >= 0 {
				got = append(got, line[i:])
			}
		}
		return got
	}
	logAll := func() {
		a.Debug("a debug")
		a.Info("a info")
		b.Debug("b debug")
		b.Warn("b warn")
		daemonLog.Debug("daemon debug")
	}

	logAll()
	if got, want := lines(), []string{`level=INFO msg="a info" connector=a`, `level=WARN msg="b warn"`}; !reflect.DeepEqual(got, want) {
		t.Fatalf("at INFO:\n%q\nwant %q", got, want)
	}
	if got := l.SetLevel(ConnectorLogger("a"), slog.LevelDebug); !reflect.DeepEqual(got, []string{"io.sluice.connector.a"}) {
		t.Fatalf("SetLevel = %v", got)
	}
	logAll()
	if got, want := lines(), []string{`level=DEBUG msg="a debug" connector=a`, `level=INFO msg="a info" connector=a`, `level=WARN msg="b warn"`}; !reflect.DeepEqual(got, want) {
		t.Fatalf("a at DEBUG:\n%q\nwant %q", got, want)
	}
	off, _ := ParseLevel("off")
	if got := l.SetLevel(ConnectorLoggers, off); !reflect.DeepEqual(got, []string{"io.sluice.connector", "io.sluice.connector.a", "io.sluice.connector.b"}) {
		t.Fatalf("SetLevel of the namespace = %v", got)
	}
	logAll()
	if got := lines(); got != nil {
		t.Fatalf("connectors OFF: %q", got)
	}
	// A new namespace counts as changed even at the level it inherits.
	if got := l.SetLevel("io.sluice.other", slog.LevelInfo); !reflect.DeepEqual(got, []string{"io.sluice.other"}) {
		t.Fatalf("SetLevel of a new namespace = %v", got)
	}
	// A logger made later takes its namespace's level; root sets all.
	l.Logger(ConnectorLogger("c")).Error("c error")
	if got := lines(); got != nil {
		t.Fatalf("new connector under an OFF namespace: %q", got)
	}
	trace, _ := ParseLevel("Trace")
	l.SetLevel("ROOT", trace)
	logAll()
	if got := lines(); len(got) != 5 {
		t.Fatalf("all at TRACE: %q", got)
	}
	levels := l.Levels()
	for _, name := range []string{"root", "io.sluice.daemon", "io.sluice.connector", "io.sluice.connector.a", "io.sluice.connector.c", "io.sluice.other"} {
		if levels[name].Level != "TRACE" || levels[name].Modified.IsZero() {
			t.Errorf("%s: %+v", name, levels[name])
		}
	}
}

func TestLevelNames(t *testing.T) {
	for _, name := range []string{"ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"} {
		level, ok := ParseLevel(strings.ToLower(name))
		if !ok || LevelName(level) != name {
			t.Errorf("%s: %v %v %s", name, level, ok, LevelName(level))
		}
	}
	if _, ok := ParseLevel("LOUD"); ok {
		t.Error("LOUD parsed")
	}
	if got := LevelName(slog.LevelInfo + 1); got != "INFO" {
		t.Errorf("INFO+1 is %s", got)
	}
}
