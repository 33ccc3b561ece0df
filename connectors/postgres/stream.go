package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// The stream reports its confirmed position to Postgres at least every
// statusInterval, and within statusDelay of the position moving, so that a
// crash replays little.
const (
	statusInterval = 10 * time.Second
	statusDelay    = 200 * time.Millisecond
)

// stream reads pgoutput from a replication connection and turns it into
// chunks of events in commit order. It is driven by one goroutine (run);
// confirm and status are safe from others.
type stream struct {
	src  *Source
	conn *pgconn.PgConn
	out  chan<- chunk

	// confirmed is the highest LSN whose changes are durable in Kafka: the
	// slot's confirmed_flush_lsn moves to it. Never zero once running.
	confirmed atomic.Uint64
	// received is the highest WAL position read from the server.
	received pglogrepl.LSN
	// handedOn is the highest end position handed to the batcher: the end of
	// the last complete transaction, or a server position with nothing
	// captured before it.
	handedOn pglogrepl.LSN
	// msgLSN is where the WAL data being handled starts: the LSN of the
	// change a row message describes.
	msgLSN pglogrepl.LSN
	// lastCommitEnd is the end of the last transaction read, for
	// source.sequence; zero until one was.
	lastCommitEnd pglogrepl.LSN

	relations *relations            // tables described outside streamed transactions
	streams   map[uint32]*spill     // in-progress streamed transactions by xid
	streamRel map[uint32]*relations // relations described inside each streamed transaction
	inStream  bool
	streamXid uint32

	tx    *txState       // the transaction being read, when not streamed
	batch []*event.Event // its events not yet handed on

	// inc runs incremental snapshots; stepDue asks for its next step as
	// soon as no transaction is being read.
	inc     *cdc.Incremental[position]
	stepDue bool
}

// txState is what the events of one transaction share.
type txState struct {
	id         string // Debezium's transaction id, "xid:commit LSN"
	xid        uint32
	commit     pglogrepl.LSN // the commit record's LSN
	lastCommit pglogrepl.LSN // the end of the transaction read before; zero: none
	lsn        pglogrepl.LSN // the LSN of the change being turned into events
	commitTime time.Time
	index      uint32           // events emitted so far
	perTable   map[uint32]int64 // data_collection_order per relation
}

func newTx(xid uint32, commit pglogrepl.LSN, at time.Time) *txState {
	return &txState{id: strconv.FormatUint(uint64(xid), 10) + ":" + strconv.FormatUint(uint64(commit), 10),
		xid: xid, commit: commit, commitTime: at, perTable: map[uint32]int64{}}
}

const chunkSize = 1024

// run reads until ctx ends or the connection fails. The replication must
// have been started on conn.
//
// Waiting for the next message is bounded by the socket's read deadline,
// renewed every statusDelay, rather than by a context per message: a
// context per message costs a watcher round trip each time, which showed
// as an eighth of the CPU of a backlog drain. ctx ends the wait by moving
// the deadline to the past. A read timeout leaves the connection usable.
func (s *stream) run(ctx context.Context) error {
	netConn := s.conn.Conn()
	stop := context.AfterFunc(ctx, func() { netConn.SetReadDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		netConn.SetReadDeadline(time.Time{}) // the final status update follows
	}()
	var sent uint64
	lastSent := time.Now()
	var deadline time.Time
	for {
		if (s.stepDue || s.inc.Ready()) && s.tx == nil && !s.inStream {
			s.stepDue = false
			if err := s.inc.Step(ctx); err != nil {
				return err
			}
		}
		now := time.Now()
		if now.After(deadline) {
			s.stepDue = true // signals from the daemon
			var lag uint64
			if c := s.confirmed.Load(); uint64(s.received) > c {
				lag = uint64(s.received) - c
			}
			s.src.lag.Set(float64(lag))
			s.src.metrics.SetLagBytes(lag)
			if cur := s.confirmed.Load(); (cur > sent && now.Sub(lastSent) >= statusDelay) || now.Sub(lastSent) >= statusInterval {
				if err := s.sendStatus(ctx, false); err != nil {
					return err
				}
				sent, lastSent = cur, now
			}
			deadline = now.Add(statusDelay)
			if ctx.Err() == nil {
				netConn.SetReadDeadline(deadline)
			}
		}
		raw, err := s.conn.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if isTimeout(err) {
				continue
			}
			return fmt.Errorf("receive from slot %q: %w", s.src.cfg.Slot, err)
		}
		switch msg := raw.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("slot %q: server error: %w", s.src.cfg.Slot, pgconn.ErrorResponseToPgError(msg))
		case *pgproto3.CopyData:
			if err := s.handleCopyData(ctx, msg.Data); err != nil {
				return err
			}
		case *pgproto3.CopyDone:
			return fmt.Errorf("slot %q: server ended the replication stream", s.src.cfg.Slot)
		}
	}
}

// isTimeout reports whether a receive ended at the read deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return pgconn.Timeout(err) || (errors.As(err, &ne) && ne.Timeout())
}

func (s *stream) handleCopyData(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("parse keepalive: %w", err)
		}
		if ka.ServerWALEnd > s.received {
			s.received = ka.ServerWALEnd
		}
		// With no transaction open, everything before the server's WAL end
		// has been received: once the chunks before it are durable, the slot
		// may move there, so idle captured tables do not hold WAL back.
		if s.tx == nil && len(s.streams) == 0 && ka.ServerWALEnd > s.handedOn {
			s.handedOn = ka.ServerWALEnd
			if err := s.send(ctx, chunk{End: at(ka.ServerWALEnd)}); err != nil {
				return err
			}
		}
		if ka.ReplyRequested {
			return s.sendStatus(ctx, false)
		}
		return nil
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("parse WAL data: %w", err)
		}
		if end := xld.WALStart + pglogrepl.LSN(len(xld.WALData)); end > s.received {
			s.received = end
		}
		s.msgLSN = xld.WALStart
		return s.handleMessage(ctx, xld.WALData)
	}
	return nil
}

// handleMessage processes one pgoutput message.
func (s *stream) handleMessage(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if s.inStream {
		switch pglogrepl.MessageType(data[0]) {
		case pglogrepl.MessageTypeStreamStop:
			s.inStream = false
			return nil
		case pglogrepl.MessageTypeStreamStart:
			return fmt.Errorf("slot %q: stream start inside a stream", s.src.cfg.Slot)
		}
		sp := s.streams[s.streamXid]
		if sp == nil {
			return fmt.Errorf("slot %q: data for unknown streamed transaction %d", s.src.cfg.Slot, s.streamXid)
		}
		return sp.add(s.msgLSN, data)
	}
	msg, err := pglogrepl.ParseV2(data, false)
	if err != nil {
		return fmt.Errorf("parse pgoutput message %q: %w", data[0], err)
	}
	switch m := msg.(type) {
	case *pglogrepl.BeginMessage:
		s.tx = newTx(m.Xid, m.FinalLSN, m.CommitTime)
		s.tx.lastCommit = s.lastCommitEnd
	case *pglogrepl.CommitMessage:
		if s.tx == nil {
			return fmt.Errorf("slot %q: commit without begin at %s", s.src.cfg.Slot, m.CommitLSN)
		}
		s.tx, s.lastCommitEnd = nil, m.TransactionEndLSN
		return s.flush(ctx, m.TransactionEndLSN)
	case *pglogrepl.StreamStartMessageV2:
		s.inStream, s.streamXid = true, m.Xid
		if s.streams[m.Xid] == nil {
			sp, err := openSpill(s.src.spillDir, m.Xid)
			if err != nil {
				return err
			}
			s.streams[m.Xid] = sp
			s.streamRel[m.Xid] = newRelations()
		}
	case *pglogrepl.StreamAbortMessageV2:
		sp := s.streams[m.Xid]
		if sp == nil {
			return nil
		}
		if m.SubXid != m.Xid {
			sp.aborted[m.SubXid] = true
			return nil
		}
		delete(s.streams, m.Xid)
		delete(s.streamRel, m.Xid)
		return sp.remove()
	case *pglogrepl.StreamCommitMessageV2:
		return s.commitStream(ctx, m)
	case *pglogrepl.LogicalDecodingMessageV2:
		if m.Prefix == watermarkPrefix {
			return s.watermark(ctx, m)
		}
		// Heartbeat messages are non-transactional: nothing to capture, but
		// the position may be confirmed once what precedes it is durable.
		if s.tx == nil && len(s.streams) == 0 && m.LSN > s.handedOn {
			s.handedOn = m.LSN
			return s.send(ctx, chunk{End: at(m.LSN)})
		}
	default:
		return s.handleChange(ctx, msg, s.relations, s.tx, s.msgLSN)
	}
	return nil
}

// commitStream replays a committed streamed transaction from its spill file.
func (s *stream) commitStream(ctx context.Context, m *pglogrepl.StreamCommitMessageV2) error {
	sp := s.streams[m.Xid]
	rels := s.streamRel[m.Xid]
	delete(s.streams, m.Xid)
	delete(s.streamRel, m.Xid)
	if sp == nil {
		return nil // an empty streamed transaction
	}
	tx := newTx(m.Xid, m.CommitLSN, m.CommitTime)
	tx.lastCommit, s.lastCommitEnd = s.lastCommitEnd, m.TransactionEndLSN
	err := sp.replay(func(lsn pglogrepl.LSN, data []byte) error {
		msg, err := pglogrepl.ParseV2(data, true)
		if err != nil {
			return fmt.Errorf("parse spilled pgoutput message %q: %w", data[0], err)
		}
		if sub, ok := subXid(msg); ok && sp.aborted[sub] {
			return nil
		}
		return s.handleChange(ctx, msg, rels, tx, lsn)
	})
	if rerr := sp.remove(); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	// Once a streamed transaction commits, pgoutput counts the relations it
	// described as described for every later transaction too.
	for id, rel := range rels.byID {
		s.relations.byID[id] = rel
	}
	return s.flush(ctx, m.TransactionEndLSN)
}

// subXid returns the (sub)transaction a streamed message belongs to.
func subXid(msg pglogrepl.Message) (uint32, bool) {
	switch m := msg.(type) {
	case *pglogrepl.InsertMessageV2:
		return m.Xid, true
	case *pglogrepl.UpdateMessageV2:
		return m.Xid, true
	case *pglogrepl.DeleteMessageV2:
		return m.Xid, true
	case *pglogrepl.TruncateMessageV2:
		return m.Xid, true
	}
	return 0, false
}

// handleChange turns one relation, type or row message, found at lsn, into
// events.
func (s *stream) handleChange(ctx context.Context, msg pglogrepl.Message, rels *relations, tx *txState, lsn pglogrepl.LSN) error {
	if rel, ok := msg.(*pglogrepl.RelationMessageV2); ok {
		return rels.describe(ctx, s.src, &rel.RelationMessage)
	}
	if _, ok := msg.(*pglogrepl.TypeMessageV2); ok {
		return nil // types are resolved from the catalog by OID
	}
	if tx == nil {
		return fmt.Errorf("slot %q: %T outside a transaction", s.src.cfg.Slot, msg)
	}
	tx.lsn = lsn
	if ins, ok := msg.(*pglogrepl.InsertMessageV2); ok {
		if rel := rels.byID[ins.RelationID]; rel != nil && rel.signalColumns != nil {
			s.signal(rel, ins.Tuple)
		}
	}
	events, err := s.src.events(msg, rels, tx)
	if verr := (*cdc.ValueError)(nil); errors.As(err, &verr) {
		return s.src.failures.Handle(ctx, s.src.failed(msg, rels, tx, verr))
	}
	if err != nil {
		return err
	}
	s.batch = append(s.batch, events...)
	if len(s.batch) >= chunkSize {
		return s.send(ctx, chunk{Events: s.takeBatch()})
	}
	return nil
}

// flush hands on the rest of a committed transaction with its end position.
func (s *stream) flush(ctx context.Context, end pglogrepl.LSN) error {
	if end > s.handedOn {
		s.handedOn = end
	}
	return s.send(ctx, chunk{Events: s.takeBatch(), End: at(end)})
}

func (s *stream) takeBatch() []*event.Event {
	b := s.batch
	s.batch = make([]*event.Event, 0, chunkSize)
	return b
}

// send hands c on; its events drop the rows of an incremental snapshot's
// open window whose keys they change.
func (s *stream) send(ctx context.Context, c chunk) error {
	s.inc.Streamed(c.Events)
	return cdc.Send(ctx, s.out, c)
}

// confirm records that every change up to p is durable downstream. It is
// called by the batcher's acknowledgements, in order.
func (s *stream) confirm(p position) {
	lsn := p.LSN
	for {
		cur := s.confirmed.Load()
		if lsn <= cur || s.confirmed.CompareAndSwap(cur, lsn) {
			return
		}
	}
}

// end ends the replication stream as a client should: CopyDone, then
// the server's messages read up to its answer, so that the server has read
// the final status before the connection closes. Closing with the server's
// data unread instead resets the connection, and the server drops what it
// had not read yet — the final status among it — leaving the slot behind
// what Kafka holds: the next run would replay those changes. ctx bounds
// the wait, which lasts while the server finishes sending a transaction.
func (s *stream) end(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		s.conn.Conn().SetDeadline(d)
		defer s.conn.Conn().SetDeadline(time.Time{})
	}
	if _, err := pglogrepl.SendStandbyCopyDone(ctx, s.conn); err != nil {
		return fmt.Errorf("end the replication stream of slot %q: %w", s.src.cfg.Slot, err)
	}
	return nil
}

// sendStatus reports the confirmed position. Write, flush and apply are all
// set explicitly to it: a zero flush position would make the server take the
// write position, confirming changes that are not yet durable.
func (s *stream) sendStatus(ctx context.Context, reply bool) error {
	pos := pglogrepl.LSN(s.confirmed.Load())
	if pos == 0 {
		return errors.New("refusing to send a zero confirmed position")
	}
	err := pglogrepl.SendStandbyStatusUpdate(ctx, s.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pos, WALFlushPosition: pos, WALApplyPosition: pos,
		ClientTime: time.Now(), ReplyRequested: reply,
	})
	if err != nil {
		return fmt.Errorf("send status to slot %q: %w", s.src.cfg.Slot, err)
	}
	return nil
}
