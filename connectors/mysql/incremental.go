package mysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// The signal types of the watermark rows in the signal table, as Debezium
// writes them; sluice writes window-close rows only, and takes neither
// for a signal.
const (
	windowOpen  = "snapshot-window-open"
	windowClose = "snapshot-window-close"
)

// chunkReader reads the chunks of incremental snapshots and writes their
// watermarks as rows of the signal table, on a connection of its own that
// it opens when first needed. It implements cdc.ChunkReader; the stream
// goroutine calls it.
type chunkReader struct {
	src   *Source
	start Position // where streaming started: the table reader's position, until a high watermark places the rows
	ids   map[string]event.TableID
	conn  *client.Conn
}

var _ cdc.ChunkReader = (*chunkReader)(nil)

func (r *chunkReader) connection(ctx context.Context) (*client.Conn, error) {
	if r.conn == nil {
		conn, err := r.src.connect(ctx)
		if err != nil {
			return nil, err
		}
		r.conn = conn
	}
	return r.conn, nil
}

// close closes the connection, if one was opened.
func (r *chunkReader) close() {
	if r.conn != nil {
		r.conn.Close()
	}
}

// captured returns the connection, once the captured tables are known.
func (r *chunkReader) captured(ctx context.Context) (*client.Conn, error) {
	conn, err := r.connection(ctx)
	if err != nil || r.ids != nil {
		return conn, err
	}
	ids, err := r.src.capturedTables(conn)
	if err != nil {
		return nil, err
	}
	r.ids = map[string]event.TableID{}
	for _, id := range ids {
		r.ids[id.String()] = id
	}
	return conn, nil
}

// Check sees that table is captured and has a key, and that there is a
// signal table for the watermarks. See cdc.ChunkReader.
func (r *chunkReader) Check(ctx context.Context, table string) error {
	if r.src.cfg.SignalTable == "" {
		return errors.New("the MySQL source writes an incremental snapshot's watermarks to the signal table: set signal.data.collection")
	}
	conn, err := r.captured(ctx)
	if err != nil {
		return err
	}
	id, ok := r.ids[table]
	if !ok {
		return fmt.Errorf("table %s is not captured: name a table the filters capture (table.include.list), as database.table", table)
	}
	v, err := r.src.tables.fromCatalog(conn, id)
	if err != nil {
		return err
	}
	if len(v.table.Key) == 0 {
		return fmt.Errorf("table %s has no primary key, and an incremental snapshot reads in key order: give it one, or key columns with message.key.columns", table)
	}
	return nil
}

// ReadChunk reads one chunk through the snapshot's table reader, each
// query seeing what is committed when it runs. See cdc.ChunkReader.
func (r *chunkReader) ReadChunk(ctx context.Context, q cdc.ChunkQuery) ([]*event.Event, []string, error) {
	conn, err := r.captured(ctx)
	if err != nil {
		return nil, nil, err
	}
	tr := &tableReader{src: r.src, conn: conn, start: r.start, serverID: r.src.serverID, ids: r.ids, where: q.Condition, limit: q.Limit, orderBy: q.OrderBy}
	var events []*event.Event
	var lastKey []string
	err = tr.ReadTable(ctx, q.Table, q.After, func(chunk []*event.Event, last []string) error {
		events, lastKey = append(events, chunk...), last
		return nil
	})
	var myErr *gomysql.MyError
	if q.Condition != "" && errors.As(err, &myErr) && slices.Contains([]uint16{1054, 1064, 1305, 1582, 1583}, myErr.Code) {
		return nil, nil, fmt.Errorf("%w: %s", cdc.ErrBadCondition, myErr.Message)
	}
	return events, lastKey, err
}

// Watermark inserts mark into the signal table, as a window-close row (as
// Debezium writes them). See cdc.ChunkReader.
func (r *chunkReader) Watermark(ctx context.Context, mark string) error {
	conn, err := r.connection(ctx)
	if err != nil {
		return err
	}
	db, table, _ := strings.Cut(r.src.cfg.SignalTable, ".")
	if _, err := conn.Execute("INSERT INTO "+quoteIdent(db)+"."+quoteIdent(table)+" VALUES (?, ?, NULL)", mark, windowClose); err != nil {
		return fmt.Errorf("write incremental snapshot watermark to signal table %s: %w", r.src.cfg.SignalTable, err)
	}
	return nil
}

// signalRows hands the rows inserted into the signal table by the rows
// event h heads to the incremental snapshots: watermarks, and signals to
// act on. The rows of a chunk its high watermark closes join the
// watermark's transaction, at its position: after every change the stream
// read before it. Their source blocks say the watermark's row, as
// Debezium's do (see locateRow).
func (st *stream) signalRows(rows [][]any, h *replication.EventHeader, commit uint64) {
	for i, row := range rows {
		if len(row) < 3 {
			continue
		}
		sig := connectors.Signal{ID: text(row[0]), Type: text(row[1])}
		if row[2] != nil {
			sig.Data = []byte(text(row[2]))
		}
		switch sig.Type {
		case windowOpen, windowClose:
			if c, ok := st.inc.Watermark(sig.ID, event.Position{Commit: commit, Index: uint32(st.total)}, st.locateRow(h, int32(i))); ok {
				st.events = append(st.events, c.Events...)
				st.progress = c.Incremental
				st.stepDue = true
			}
		default:
			st.inc.Signal(sig)
			st.stepDue = true
		}
	}
}

// locateRow locates source blocks at row row of the rows event h heads
// (see placeRow), where the watermark row is: every change after the
// watermark is in a later rows event, and every change the stream read
// before the chunk's rows were read in an earlier one.
func (st *stream) locateRow(h *replication.EventHeader, row int32) func(*event.Source) {
	return func(src *event.Source) { st.placeRow(src, h, row) }
}

// text is the text of a binlog string value.
func text(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

// Position is where the stream is: the end of the last transaction it
// read, before the next one's events. See cdc.HeldStream.
func (st *stream) Position() event.Position {
	c, _ := event.BinlogCommit(st.file, st.endPos) // the file's name parsed for every event read
	return event.Position{Commit: c}
}

// Locate sets the binlog file and position to Position's, the end of the
// last transaction read. See cdc.HeldStream.
func (st *stream) Locate(src *event.Source) { src.File, src.Pos = st.file, int64(st.endPos) }

// KeepAlive does nothing: the binlog connection is only kept by reading
// it, so a blocking snapshot that outlasts the server's net_write_timeout
// while the binlog grows makes the stream reconnect. See cdc.HeldStream.
func (st *stream) KeepAlive(context.Context) error { return nil }
