package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

// ErrBadCondition is wrapped by a ChunkReader's error when a snapshot's
// additional condition does not run (bad SQL, an unknown column) or its
// surrogate key is no column of the table: the table is skipped and the
// snapshot goes on.
var ErrBadCondition = errors.New("the additional condition or the surrogate key does not run")

// ChunkReader is what a database supplies for incremental snapshots. Its
// methods are called one at a time: Check from the source's stream
// goroutine, ReadChunk and Watermark from there or from the goroutine of
// an incremental snapshot's chunk read, never while another runs.
type ChunkReader interface {
	// Check returns nil when table (schema.table or database.table) is
	// captured and has a key, and otherwise an error saying what to do.
	Check(ctx context.Context, table string) error
	// ReadChunk reads the chunk q names as committed now. It returns its
	// rows as op=r events with the text form of the last one's order key.
	// The driver's TableReader reads them.
	ReadChunk(ctx context.Context, q ChunkQuery) (events []*event.Event, lastKey []string, err error)
	// Watermark writes mark, a chunk's high watermark, into the database's
	// log, where the stream reads it back and hands it to
	// Incremental.Watermark.
	Watermark(ctx context.Context, mark string) error
}

// ChunkQuery is a chunk of an incremental snapshot: up to Limit rows of
// Table (schema.table or database.table) in the order of its key, or of
// the column OrderBy (a surrogate key, unique) when set, after the row
// whose order key has the text form After (from the start when nil),
// keeping those that match Condition (an SQL boolean expression; "" keeps
// all).
type ChunkQuery struct {
	Table     string
	After     []string
	Limit     int
	Condition string
	OrderBy   string
}

// IncrementalProgress is an incremental snapshot under way, as the
// source's offsets keep it.
type IncrementalProgress struct {
	ID        string   `json:"id"`
	Requested []string `json:"requested"`
	// Tables are those left to read, the current one first; LastKey is the
	// text form of the key of its last row made durable.
	Tables     []string          `json:"tables"`
	LastKey    []string          `json:"last_key,omitempty"`
	Conditions map[string]string `json:"conditions,omitempty"`
	// SurrogateKeys are the columns tables are read in the order of,
	// instead of their keys (execute-snapshot's surrogate-key).
	SurrogateKeys map[string]string `json:"surrogate_keys,omitempty"`
	Paused        bool              `json:"paused,omitempty"`
	// Blocking marks a blocking snapshot: the stream does not read on
	// until it ends.
	Blocking bool      `json:"blocking,omitempty"`
	Rows     int64     `json:"rows,omitempty"`
	Chunks   int64     `json:"chunks,omitempty"`
	Started  time.Time `json:"started"`
}

func (p *IncrementalProgress) clone() *IncrementalProgress {
	c := *p
	c.Requested, c.Tables, c.LastKey = slices.Clone(p.Requested), slices.Clone(p.Tables), slices.Clone(p.LastKey)
	return &c
}

// Incremental runs incremental snapshots while a source streams, by the
// watermark algorithm of DBLog (Debezium's incremental snapshots): a chunk
// of a table is read in key order, then a high watermark is written to the
// database's log, and the chunk's rows are handed on where the stream
// reads it, except those whose key the stream changed since the chunk was
// read: for them the stream's newer change stands. Rows handed on are
// op=r events with source.snapshot=incremental.
//
// The window opens just before the chunk is read, between two transactions
// of the stream, rather than where the stream reads a low watermark: every
// transaction the stream reads from then on counts as changing its keys,
// those that committed before the read included (their change, streamed
// after the chunk, is as new as the row read). So no low watermark is
// written: it would cost a commit a chunk and decide nothing.
//
// The chunk is read, and its high watermark written, in a goroutine of its
// own while the stream goes on: keys the stream changes meanwhile are noted
// and their rows dropped once the chunk is in. As soon as a chunk is in,
// the next one is read, while the first waits for its high watermark, so
// memory holds two chunks.
//
// The progress (tables left, last key) travels with the chunks to the
// Acker, which saves it once Kafka acknowledged them, so that a restarted
// source continues after the last durable chunk.
//
// Snapshots are started, paused, resumed and stopped by signals: from the
// source's signal table (Signal), the signal topic (KafkaSignals) or the
// daemon (connectors.Signals). The stream goroutine calls every method.
type Incremental[P any] struct {
	reader  ChunkReader
	size    int
	out     chan<- Chunk[P]
	signals *connectors.Signals
	kafka   *KafkaSignals
	stream  HeldStream
	metrics Metrics
	logger  *slog.Logger

	progress *IncrementalProgress // nil when no snapshot runs
	windows  []*window            // open windows, oldest first: at most maxWindows
	next     readCursor           // where the next chunk starts while a window is open
	reading  *window              // the window whose chunk is being read, nil when none
	read     chan chunkRead       // where the read under way hands its chunk (capacity 1)
	failed   error                // a chunk's read failed after its high watermark was written
	queued   []connectors.Signal
	history  []connectors.SnapshotStatus // finished snapshots, newest last

	// captured are the tables captured now, until the first step handed
	// them on to be saved (nil then, or when the source does not say);
	// newTables are those to snapshot then.
	captured, newTables []string
}

// historySize bounds the finished snapshots listed.
const historySize = 20

// maxWindows bounds the open windows: one waiting for its high watermark
// while the next one's chunk is read.
const maxWindows = 2

// window is a chunk being read, or read and not yet handed on.
type window struct {
	id    string
	table string
	// changed are the keys the stream changed while the chunk is read, and
	// cleared says it truncated the table then; nil once the chunk is in.
	changed map[string]bool
	cleared bool
	rows    []*event.Event // nil once the stream changed the row's key
	byKey   map[string]int
	lastKey []string
	more    bool  // the chunk was full: the table may have more rows
	skip    error // the table's condition or surrogate key does not run: the table is skipped
}

// chunkRead is what the read of a chunk found.
type chunkRead struct {
	events  []*event.Event
	lastKey []string
	err     error
}

// readCursor is where the next chunk starts: after the key after of
// table, or, when tableDone, at the table after it.
type readCursor struct {
	table     string
	after     []string
	tableDone bool
}

// IncrementalConfig is what a source gives its incremental snapshots.
type IncrementalConfig[P any] struct {
	// Reader reads chunks and writes watermarks; ChunkSize rows a chunk.
	Reader    ChunkReader
	ChunkSize int
	// Out is where chunks, and progress to save, are handed on.
	Out chan<- Chunk[P]
	// Resume is the snapshot the source's offsets hold; nil for none.
	Resume *IncrementalProgress
	// Signals is the daemon's channel; nil outside the daemon.
	Signals *connectors.Signals
	// Kafka is the signal topic (signal.kafka.topic); nil when the kafka
	// channel is not enabled.
	Kafka *KafkaSignals
	// Stream is the source's stream, which a blocking snapshot holds.
	Stream HeldStream
	// Captured are the tables the source captures now, and Known those
	// its offsets say it captured before (nil when they do not say); with
	// NewTables (snapshot.new.tables) the tables captured now and not
	// before get an incremental snapshot.
	Captured, Known []string
	NewTables       bool
	Metrics         Metrics
	Logger          *slog.Logger
}

// HeldStream is a source's stream as a blocking snapshot holds it: the
// stream goroutine calls Step, so the stream reads nothing of the log
// while the snapshot's chunks are read.
type HeldStream interface {
	// Position is where the stream is: after every change it handed on,
	// and before every change it has yet to read.
	Position() event.Position
	// Locate sets the position fields of a source block (source.lsn; the
	// binlog file and position) to where the stream is, Position.
	Locate(src *event.Source)
	// KeepAlive is called between the chunks of a blocking snapshot, so
	// that the database keeps the stream's connection while it is not read.
	KeepAlive(ctx context.Context) error
}

// NewIncremental returns the incremental snapshots of a source.
func NewIncremental[P any](c IncrementalConfig[P]) *Incremental[P] {
	in := &Incremental[P]{reader: c.Reader, size: c.ChunkSize, out: c.Out, signals: c.Signals, kafka: c.Kafka, stream: c.Stream, metrics: c.Metrics,
		read: make(chan chunkRead, 1), logger: c.Logger.With("snapshot", "incremental")}
	in.captured = c.Captured
	if c.NewTables && c.Known != nil {
		for _, t := range c.Captured {
			if !slices.Contains(c.Known, t) {
				in.newTables = append(in.newTables, t)
			}
		}
	}
	if resume := c.Resume; resume != nil && len(resume.Tables) > 0 {
		in.progress = resume
		in.logger.Info("incremental snapshot resumes", "id", resume.ID, "table", resume.Tables[0], "after_key", resume.LastKey)
	}
	in.publish()
	return in
}

// Signal queues a signal read from the signal table; Step acts on it.
func (in *Incremental[P]) Signal(sig connectors.Signal) { in.queued = append(in.queued, sig) }

// Streamed is called with the events the stream hands on, before it
// hands them on: a key they change drops the row of an open window.
func (in *Incremental[P]) Streamed(events []*event.Event) {
	for _, w := range in.windows {
		for _, e := range events {
			if e.Table == nil || e.Table.ID.String() != w.table {
				continue
			}
			switch {
			case w.changed != nil && e.Op == event.OpTruncate:
				w.cleared = true
			case w.changed != nil:
				w.changed[keyString(e.Key())] = true
			case e.Op == event.OpTruncate:
				clear(w.rows)
			default:
				if i, ok := w.byKey[keyString(e.Key())]; ok {
					w.rows[i] = nil
				}
			}
		}
	}
}

// keyString is the map key of an event's key: each value's text after its
// length, so that no two keys share one ("a b" and "a", "b" among them).
// Integers are written as numbers whatever their width, so that a key
// read by a chunk and one streamed match when their values do.
func keyString(key event.Row) string {
	var buf [64]byte
	b := buf[:0]
	for _, v := range key {
		var text []byte
		var scratch [24]byte
		switch x := v.(type) {
		case string:
			b = append(strconv.AppendInt(b, int64(len(x)), 10), ':')
			b = append(b, x...)
			continue
		case int64:
			text = strconv.AppendInt(scratch[:0], x, 10)
		case int32:
			text = strconv.AppendInt(scratch[:0], int64(x), 10)
		case int16:
			text = strconv.AppendInt(scratch[:0], int64(x), 10)
		case int8:
			text = strconv.AppendInt(scratch[:0], int64(x), 10)
		default:
			text = fmt.Append(scratch[:0], x)
		}
		b = append(strconv.AppendInt(b, int64(len(text)), 10), ':')
		b = append(b, text...)
	}
	return string(b)
}

// Step acts on the queued signals and, when a snapshot runs, takes the
// chunk read last and starts reading the next one. The stream calls it
// between transactions, and as soon as Ready; it returns an error only
// when the database fails.
func (in *Incremental[P]) Step(ctx context.Context) error {
	if in.failed != nil {
		return in.failed
	}
	if in.captured != nil {
		if err := in.snapshotNewTables(ctx); err != nil {
			return err
		}
	}
	if err := in.takeSignals(ctx); err != nil {
		return err
	}
	for in.progress != nil && in.progress.Blocking && !in.progress.Paused {
		if err := in.blockingChunk(ctx); err != nil {
			return err
		}
		if err := in.takeSignals(ctx); err != nil {
			return err
		}
	}
	if in.Ready() {
		if err := in.collect(<-in.read); err != nil {
			return err
		}
	}
	p := in.progress
	if p == nil || p.Blocking {
		return nil
	}
	if len(p.Tables) == 0 && len(in.windows) == 0 {
		return in.finish(ctx, "COMPLETED")
	}
	if p.Paused || in.reading != nil || len(in.windows) >= maxWindows {
		return nil
	}
	if c, ok := in.cursor(); ok {
		in.startRead(ctx, c)
	}
	return nil
}

// Ready reports whether a chunk was read and waits for Step to take it.
func (in *Incremental[P]) Ready() bool { return in.reading != nil && len(in.read) > 0 }

// Wait waits for the chunk read under way, if any, to end; the source
// calls it before it closes the ChunkReader.
func (in *Incremental[P]) Wait() {
	if in.reading != nil {
		<-in.read
		in.reading = nil
	}
}

// cursor returns where the next chunk starts, and false when no table is
// left to read until an open window is handed on. With no window open,
// the progress says where.
func (in *Incremental[P]) cursor() (readCursor, bool) {
	p := in.progress
	if len(in.windows) == 0 {
		return readCursor{table: p.Tables[0], after: p.LastKey}, true
	}
	c := in.next
	if !c.tableDone {
		return c, true
	}
	if i := slices.Index(p.Tables, c.table); i >= 0 && i+1 < len(p.Tables) {
		return readCursor{table: p.Tables[i+1]}, true
	}
	return readCursor{}, false
}

// startRead opens a window on the chunk at c and reads it, then writes
// its high watermark, in a goroutine; the chunk comes back on in.read.
// The window opens here, before the read, in the stream's order.
func (in *Incremental[P]) startRead(ctx context.Context, c readCursor) {
	p := in.progress
	w := &window{id: p.ID + "-" + strconv.FormatInt(p.Chunks+int64(len(in.windows))+1, 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		table: c.table, changed: map[string]bool{}}
	in.windows = append(in.windows, w)
	in.reading = w
	q := in.query(c.table, c.after)
	go func() {
		events, lastKey, err := in.reader.ReadChunk(ctx, q)
		if err == nil || errors.Is(err, ErrBadCondition) {
			if werr := in.reader.Watermark(ctx, w.id+"-close"); werr != nil {
				err = werr
			}
		}
		in.read <- chunkRead{events: events, lastKey: lastKey, err: err}
	}()
}

// collect takes the chunk of the window being read: it drops the rows of
// the keys the stream changed meanwhile and moves the cursor past it.
func (in *Incremental[P]) collect(r chunkRead) error {
	w := in.reading
	in.reading = nil
	switch {
	case errors.Is(r.err, ErrBadCondition):
		p := in.progress
		in.logger.Error("incremental snapshot skips a table: its additional condition or surrogate key does not run; fix it and send execute-snapshot again",
			"id", p.ID, "table", w.table, "condition", p.Conditions[w.table], "surrogate_key", p.SurrogateKeys[w.table], "error", r.err)
		w.skip = r.err
	case r.err != nil:
		return fmt.Errorf("incremental snapshot of %s: %w", w.table, r.err)
	}
	w.lastKey, w.more = r.lastKey, w.skip == nil && len(r.events) >= in.size
	w.byKey = make(map[string]int, len(r.events))
	for i, e := range r.events {
		k := keyString(e.Key())
		if w.cleared || w.changed[k] {
			r.events[i] = nil
			continue
		}
		w.byKey[k] = i
	}
	w.rows, w.changed = r.events, nil
	in.next = readCursor{table: w.table, after: w.lastKey, tableDone: !w.more}
	return nil
}

// awaitRead waits for the chunk read under way, if any, and takes it, so
// that the ChunkReader is free.
func (in *Incremental[P]) awaitRead() error {
	if in.reading == nil {
		return nil
	}
	return in.collect(<-in.read)
}

// dropWindows forgets the open windows: their rows are never handed on,
// and the next chunk starts where the progress says (see cursor). A high
// watermark of theirs the stream reads later is ignored.
func (in *Incremental[P]) dropWindows() {
	in.windows = nil
}

// snapshotNewTables starts an incremental snapshot of the tables captured
// now and not when the source last started (snapshot.new.tables), and
// hands the tables captured now on to be saved.
func (in *Incremental[P]) snapshotNewTables(ctx context.Context) error {
	if len(in.newTables) > 0 {
		id := "new-tables-" + strconv.FormatInt(time.Now().UnixMilli(), 10)
		logger := in.logger.With("signal", id)
		logger.Info("snapshot.new.tables: tables newly captured get an incremental snapshot", "tables", in.newTables)
		if err := in.execute(ctx, id, &snapshotRequest{Tables: in.newTables, Type: "incremental"}, logger); err != nil {
			return err
		}
	}
	captured := in.captured
	in.captured, in.newTables = nil, nil
	return Send(ctx, in.out, Chunk[P]{Captured: captured})
}

// takeSignals acts on the signals queued from every channel.
func (in *Incremental[P]) takeSignals(ctx context.Context) error {
	queued := append(in.queued, in.signals.Take()...)
	in.queued = nil
	if len(queued) > 0 {
		if err := in.awaitRead(); err != nil {
			return err
		}
	}
	for _, sig := range queued {
		if err := in.act(ctx, sig); err != nil {
			return err
		}
	}
	if sigs, last, ok := in.kafka.take(); ok {
		if err := in.awaitRead(); err != nil {
			return err
		}
		for _, sig := range sigs {
			if err := in.act(ctx, sig); err != nil {
				return err
			}
		}
		return Send(ctx, in.out, Chunk[P]{SignalOffset: &last})
	}
	return nil
}

// query is the chunk of table after the key after, in the running
// snapshot.
func (in *Incremental[P]) query(table string, after []string) ChunkQuery {
	p := in.progress
	return ChunkQuery{Table: table, After: after, Limit: in.size, Condition: p.Conditions[table], OrderBy: p.SurrogateKeys[table]}
}

// blockingChunk reads the next chunk of a blocking snapshot and hands it
// on at once, positioned where the stream stopped (in the source blocks
// too), so the changes the stream reads after the snapshot follow its
// rows; it ends the snapshot once no table is left.
func (in *Incremental[P]) blockingChunk(ctx context.Context) error {
	p := in.progress
	if len(p.Tables) == 0 {
		return in.finish(ctx, "COMPLETED")
	}
	if err := in.stream.KeepAlive(ctx); err != nil {
		return err
	}
	table := p.Tables[0]
	events, lastKey, err := in.reader.ReadChunk(ctx, in.query(table, p.LastKey))
	if errors.Is(err, ErrBadCondition) {
		in.logger.Error("blocking snapshot skips a table: its additional condition or surrogate key does not run; fix it and send execute-snapshot again",
			"id", p.ID, "table", table, "condition", p.Conditions[table], "surrogate_key", p.SurrogateKeys[table], "error", err)
		in.nextTable()
		return in.save(ctx)
	}
	if err != nil {
		return fmt.Errorf("blocking snapshot of %s: %w", table, err)
	}
	place(events, event.SnapshotTrue, in.stream.Position(), in.stream.Locate)
	p.Rows += int64(len(events))
	p.LastKey = lastKey
	if len(events) > 0 {
		p.Chunks++
		in.metrics.snapshotRows.Add(uint64(len(events)))
		in.metrics.snapshotChunks.Add(1)
	}
	if len(events) < in.size {
		in.logger.Info("blocking snapshot of table complete", "id", p.ID, "table", table)
		in.nextTable()
	}
	in.publish()
	return Send(ctx, in.out, Chunk[P]{Events: events, Incremental: p.clone()})
}

// Watermark is called by the stream with each watermark it reads, at the
// position of the log where it is. At the high watermark of the oldest
// open window it returns the chunk to hand on: the rows no streamed change
// overtook, positioned at at, their source blocks located by locate at
// the watermark (see place), with the progress to save once durable.
func (in *Incremental[P]) Watermark(mark string, at event.Position, locate func(*event.Source)) (Chunk[P], bool) {
	if len(in.windows) == 0 || mark != in.windows[0].id+"-close" {
		return Chunk[P]{}, false // a low watermark an older version wrote, or one of a window a restart abandoned
	}
	w := in.windows[0]
	if w == in.reading {
		// Read and watermarked, its chunk on the way: the goroutine hands it
		// on right after writing the watermark.
		if err := in.collect(<-in.read); err != nil {
			in.failed = err
			in.dropWindows()
			return Chunk[P]{}, false
		}
	}
	in.windows = in.windows[1:]
	var rows []*event.Event
	for _, e := range w.rows {
		if e != nil {
			rows = append(rows, e)
		}
	}
	place(rows, event.SnapshotIncremental, at, locate)
	p := in.progress
	p.Rows += int64(len(rows))
	p.LastKey = w.lastKey
	in.metrics.snapshotRows.Add(uint64(len(rows)))
	if len(w.rows) > 0 { // not the empty read that finds a table's end
		p.Chunks++
		in.metrics.snapshotChunks.Add(1)
	}
	if !w.more {
		if w.skip == nil {
			in.logger.Info("incremental snapshot of table complete", "id", p.ID, "table", w.table)
		}
		in.nextTable()
	}
	in.publish()
	return Chunk[P]{Events: rows, Incremental: p.clone()}, true
}

// place marks events as snapshot rows of kind, handed on at at: their
// position, and the position fields of their source blocks, which locate
// sets. So a sink that orders writes by the source block's position (the
// Elasticsearch sink's versions) orders them after every change streamed
// before at and before every change streamed after it.
func place(events []*event.Event, kind event.Snapshot, at event.Position, locate func(*event.Source)) {
	for _, e := range events {
		e.Source.Snapshot = kind
		e.Position = at
		locate(&e.Source)
	}
}

// act carries out one signal; a bad one is logged and dropped.
func (in *Incremental[P]) act(ctx context.Context, sig connectors.Signal) error {
	logger := in.logger.With("signal", sig.ID, "type", sig.Type)
	bad := func(err error) error {
		logger.Error("signal ignored: "+err.Error(), "data", string(sig.Data))
		return nil
	}
	switch sig.Type {
	case SignalLog:
		var m logMessage
		if err := jsonObject(sig.Data, &m); err != nil {
			return bad(err)
		}
		logger.Info("signal: " + m.Message)
		return nil
	case SignalExecuteSnapshot:
		req, err := parseSnapshotRequest(sig)
		if err != nil {
			return bad(err)
		}
		return in.execute(ctx, sig.ID, req, logger)
	case SignalStopSnapshot:
		req, err := parseSnapshotRequest(sig)
		if err != nil {
			return bad(err)
		}
		return in.stop(ctx, req, logger)
	case SignalPauseSnapshot, SignalResumeSnapshot:
		if in.progress == nil {
			return bad(errors.New("no incremental snapshot is running"))
		}
		in.progress.Paused = sig.Type == SignalPauseSnapshot
		logger.Info("incremental snapshot "+map[bool]string{true: "paused", false: "resumed"}[in.progress.Paused], "id", in.progress.ID)
		return in.save(ctx)
	}
	return bad(fmt.Errorf("unknown signal type %q: want %s, %s, %s, %s or %s", sig.Type,
		SignalExecuteSnapshot, SignalStopSnapshot, SignalPauseSnapshot, SignalResumeSnapshot, SignalLog))
}

// execute starts a snapshot of the tables req names, or adds them to the
// one running.
func (in *Incremental[P]) execute(ctx context.Context, id string, req *snapshotRequest, logger *slog.Logger) error {
	var tables []string
	for _, t := range req.Tables {
		if err := in.reader.Check(ctx, t); err != nil {
			logger.Error("incremental snapshot skips a table: "+err.Error(), "table", t)
			continue
		}
		if !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	if len(tables) == 0 {
		logger.Error("signal ignored: none of its tables can be snapshotted", "tables", req.Tables)
		return nil
	}
	blocking := req.Type == "blocking"
	if in.progress != nil && in.progress.Blocking != blocking {
		logger.Error("signal ignored: a snapshot of the other type runs; send it again once snapshot "+in.progress.ID+" ended", "requested", req.Type)
		return nil
	}
	if in.progress == nil {
		if id == "" {
			id = strconv.FormatInt(time.Now().UnixMilli(), 10)
		}
		in.progress = &IncrementalProgress{ID: id, Started: time.Now().UTC(), Conditions: map[string]string{}, Blocking: blocking}
	}
	p := in.progress
	for _, t := range tables {
		if !slices.Contains(p.Requested, t) {
			p.Requested = append(p.Requested, t)
		}
		if !slices.Contains(p.Tables, t) {
			p.Tables = append(p.Tables, t)
		}
	}
	for _, c := range req.Conditions {
		if slices.Contains(tables, c.Table) {
			p.Conditions[c.Table] = c.Filter
		}
	}
	if req.SurrogateKey != "" {
		if p.SurrogateKeys == nil {
			p.SurrogateKeys = map[string]string{}
		}
		for _, t := range tables {
			p.SurrogateKeys[t] = req.SurrogateKey
		}
	}
	logger.Info(req.Type+" snapshot requested", "id", p.ID, "tables", tables, "queue", p.Tables)
	return in.save(ctx)
}

// stop ends the running snapshot, or drops the tables req names from it.
func (in *Incremental[P]) stop(ctx context.Context, req *snapshotRequest, logger *slog.Logger) error {
	p := in.progress
	if p == nil {
		logger.Warn("signal ignored: no incremental snapshot is running")
		return nil
	}
	in.dropWindows()
	if len(req.Tables) == 0 {
		logger.Info("incremental snapshot stopped", "id", p.ID, "tables_left", p.Tables)
		return in.finish(ctx, "STOPPED")
	}
	for _, t := range req.Tables {
		i := slices.Index(p.Tables, t)
		switch {
		case i < 0:
			logger.Warn("stop-snapshot: the snapshot does not read this table", "table", t)
		case i == 0:
			in.nextTable()
		default:
			p.Tables = slices.Delete(p.Tables, i, i+1)
		}
	}
	logger.Info("incremental snapshot: tables dropped", "id", p.ID, "tables_left", p.Tables)
	return in.save(ctx)
}

func (in *Incremental[P]) nextTable() {
	in.progress.Tables = in.progress.Tables[1:]
	in.progress.LastKey = nil
}

// finish ends the running snapshot in state (COMPLETED or STOPPED).
func (in *Incremental[P]) finish(ctx context.Context, state string) error {
	st := in.status()
	now := time.Now().UTC()
	st.State, st.Finished = state, &now
	if state == "COMPLETED" {
		in.logger.Info(st.Type+" snapshot complete", "id", st.ID, "rows", st.Rows, "chunks", st.Chunks, "seconds", now.Sub(st.Started).Seconds())
	}
	in.history = append(in.history, st)
	if len(in.history) > historySize {
		in.history = in.history[1:]
	}
	done := &IncrementalProgress{ID: in.progress.ID}
	in.progress = nil
	return in.send(ctx, done)
}

// save hands the progress on to be saved once what precedes it is durable.
func (in *Incremental[P]) save(ctx context.Context) error {
	return in.send(ctx, in.progress.clone())
}

func (in *Incremental[P]) send(ctx context.Context, p *IncrementalProgress) error {
	in.publish()
	return Send(ctx, in.out, Chunk[P]{Incremental: p})
}

func (in *Incremental[P]) status() connectors.SnapshotStatus {
	p := in.progress
	st := connectors.SnapshotStatus{ID: p.ID, Type: "incremental", State: "RUNNING", Tables: slices.Clone(p.Requested), Remaining: slices.Clone(p.Tables),
		LastKey: slices.Clone(p.LastKey), Rows: p.Rows, Chunks: p.Chunks, Started: p.Started}
	if p.Paused {
		st.State = "PAUSED"
	}
	if p.Blocking {
		st.Type = "blocking"
	}
	return st
}

// publish shows the snapshots' state to the daemon and the metrics.
func (in *Incremental[P]) publish() {
	list := slices.Clone(in.history)
	remaining := 0
	if in.progress != nil {
		list = append(list, in.status())
		remaining = len(in.progress.Tables)
	}
	in.metrics.snapshotRemaining.Set(float64(remaining))
	in.signals.Publish(list)
}
