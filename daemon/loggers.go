package daemon

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// The names of the daemon's loggers. Each connector has its own,
// ConnectorLogger(name), below ConnectorLoggers; setting the level of
// ConnectorLoggers sets every connector's.
const (
	RootLogger       = "root"
	DaemonLogger     = "io.sluice.daemon"
	RESTLogger       = "io.sluice.daemon.rest"
	RuntimeLogger    = "io.sluice.daemon.runtime"
	ConnectorLoggers = "io.sluice.connector"
)

// ConnectorLogger is the name of a connector's logger: what the connector
// and its pipeline log, with the connector's name as the "connector"
// attribute.
func ConnectorLogger(connector string) string { return ConnectorLoggers + "." + connector }

// The levels, as log4j names them; TRACE and FATAL lie beyond slog's own.
var levelNames = []struct {
	name  string
	level slog.Level
}{
	{"ALL", slog.Level(math.MinInt)},
	{"TRACE", slog.LevelDebug - 4},
	{"DEBUG", slog.LevelDebug},
	{"INFO", slog.LevelInfo},
	{"WARN", slog.LevelWarn},
	{"ERROR", slog.LevelError},
	{"FATAL", slog.LevelError + 4},
	{"OFF", slog.Level(math.MaxInt)},
}

// ParseLevel reads a log4j level name (ALL, TRACE, DEBUG, INFO, WARN,
// ERROR, FATAL, OFF), case-insensitively.
func ParseLevel(name string) (slog.Level, bool) {
	for _, l := range levelNames {
		if strings.EqualFold(strings.TrimSpace(name), l.name) {
			return l.level, true
		}
	}
	return 0, false
}

// LevelName is the log4j name of a level; a level between two names takes
// the lower one's.
func LevelName(level slog.Level) string {
	name := levelNames[0].name
	for _, l := range levelNames {
		if level >= l.level {
			name = l.name
		}
	}
	return name
}

// LoggerLevel is a logger's level, as /admin/loggers shows it.
type LoggerLevel struct {
	Level string
	// Modified is when the level was last set through SetLevel; zero when
	// it never was.
	Modified time.Time
}

// Loggers are the daemon's named loggers, whose levels change while it
// runs: Kafka Connect's /admin/loggers. Names are dot-separated. A logger
// without a level of its own takes its nearest ancestor's, and in the end
// the root logger's, which is the daemon's log.level. It is safe for
// concurrent use; a level set applies at once to every logger made by
// Logger, and to those derived from them with With.
type Loggers struct {
	handler slog.Handler
	now     func() time.Time

	mu       sync.Mutex
	known    map[string]*slog.LevelVar // effective level of every logger but root
	explicit map[string]slog.Level     // levels set on a logger itself; root's always
	modified map[string]time.Time
	root     *slog.LevelVar
}

// NewLoggers returns loggers writing to h, which must let through every
// level they may be set to (slog.HandlerOptions.Level at its lowest), with
// root as the root logger's level.
func NewLoggers(h slog.Handler, root slog.Level) *Loggers {
	l := &Loggers{handler: h, now: time.Now, known: map[string]*slog.LevelVar{}, explicit: map[string]slog.Level{RootLogger: root},
		modified: map[string]time.Time{}, root: new(slog.LevelVar)}
	l.root.Set(root)
	return l
}

// lowestLevel is the lowest of the named levels h lets through.
func lowestLevel(h slog.Handler) slog.Level {
	for _, l := range levelNames[1:] {
		if h.Enabled(context.Background(), l.level) {
			return l.level
		}
	}
	return levelNames[len(levelNames)-1].level
}

// isRoot reports whether name names the root logger: "root", in any case,
// or "" (log4j 2's name for it).
func isRoot(name string) bool { return name == "" || strings.EqualFold(name, RootLogger) }

// Logger returns the logger of that name, making it known if it was not.
func (l *Loggers) Logger(name string) *slog.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slog.New(&levelHandler{Handler: l.handler, level: l.varLocked(name)})
}

// varLocked returns the level variable of a logger, making it known with
// its inherited level if it was not. l.mu is held.
func (l *Loggers) varLocked(name string) *slog.LevelVar {
	if isRoot(name) {
		return l.root
	}
	v, ok := l.known[name]
	if !ok {
		v = new(slog.LevelVar)
		v.Set(l.effectiveLocked(name))
		l.known[name] = v
	}
	return v
}

// effectiveLocked is the level a logger has: its own, or its nearest
// ancestor's. l.mu is held.
func (l *Loggers) effectiveLocked(name string) slog.Level {
	for n := name; ; {
		if lv, ok := l.explicit[n]; ok {
			return lv
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			return l.explicit[RootLogger]
		}
		n = n[:i]
	}
}

// Levels returns every known logger's level, root's among them.
func (l *Loggers) Levels() map[string]LoggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]LoggerLevel{RootLogger: {Level: LevelName(l.root.Level()), Modified: l.modified[RootLogger]}}
	for name, v := range l.known {
		out[name] = LoggerLevel{Level: LevelName(v.Level()), Modified: l.modified[name]}
	}
	return out
}

// Level returns a known logger's level.
func (l *Loggers) Level(name string) (LoggerLevel, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isRoot(name) {
		return LoggerLevel{Level: LevelName(l.root.Level()), Modified: l.modified[RootLogger]}, true
	}
	v, ok := l.known[name]
	if !ok {
		return LoggerLevel{}, false
	}
	return LoggerLevel{Level: LevelName(v.Level()), Modified: l.modified[name]}, true
}

// SetLevel sets the level of the logger namespace and of every logger
// below it (all of them for root), making namespace known if it was not,
// as Kafka Connect does. It returns the names of the loggers whose level
// changed, sorted; a logger made known counts as changed.
func (l *Loggers) SetLevel(namespace string, level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var changed []string
	_, existed := l.known[namespace]
	existed = existed || isRoot(namespace)
	set := func(name string, v *slog.LevelVar) {
		l.explicit[name] = level
		if v.Level() != level || (name == namespace && !existed) {
			v.Set(level)
			l.modified[name] = now
			changed = append(changed, name)
		}
	}
	if isRoot(namespace) {
		set(RootLogger, l.root)
		for name, v := range l.known {
			set(name, v)
		}
	} else {
		l.varLocked(namespace)
		for name, v := range l.known {
			if name == namespace || strings.HasPrefix(name, namespace+".") {
				set(name, v)
			}
		}
	}
	slices.Sort(changed)
	return changed
}

// levelHandler lets through the records at or above its logger's level.
type levelHandler struct {
	slog.Handler
	level *slog.LevelVar
}

func (h *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.level.Level() && h.Handler.Enabled(ctx, level)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{Handler: h.Handler.WithAttrs(attrs), level: h.level}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{Handler: h.Handler.WithGroup(name), level: h.level}
}

// Loggers returns the daemon's loggers, whose levels the REST API sets.
func (s *Supervisor) Loggers() *Loggers { return s.opts.Loggers }
