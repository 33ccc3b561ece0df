package mysql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
)

// Position is a place in the server's binlog, stored as the connector's
// offset with Debezium's MySQL offset fields: the binlog file, the position
// in it and the GTID set executed up to there. A stored position always
// lies between transactions.
type Position struct {
	File  string `json:"file"`
	Pos   uint32 `json:"pos"`
	GTIDs string `json:"gtids,omitempty"`
}

func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Pos) }

// gtidSet is the set of executed GTIDs, in the server's flavor.
type gtidSet struct {
	mariadb map[uint32]gomysql.MariadbGTID // the last GTID of each domain
	mysql   gomysql.GTIDSet
}

func parseGTIDSet(flavor, s string) (*gtidSet, error) {
	if flavor == gomysql.MySQLFlavor {
		set, err := gomysql.ParseMysqlGTIDSet(s)
		if err != nil {
			return nil, fmt.Errorf("parse GTID set %q: %w", s, err)
		}
		return &gtidSet{mysql: set}, nil
	}
	g := &gtidSet{mariadb: map[uint32]gomysql.MariadbGTID{}}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		id, err := gomysql.ParseMariadbGTID(part)
		if err != nil {
			return nil, fmt.Errorf("parse GTID set %q: %w", s, err)
		}
		g.mariadb[id.DomainID] = *id
	}
	return g, nil
}

// add records a committed transaction's GTID.
func (g *gtidSet) add(gtid string) error {
	if gtid == "" {
		return nil
	}
	if g.mysql != nil {
		return g.mysql.Update(gtid)
	}
	id, err := gomysql.ParseMariadbGTID(gtid)
	if err != nil {
		return err
	}
	g.mariadb[id.DomainID] = *id
	return nil
}

func (g *gtidSet) String() string {
	if g.mysql != nil {
		return g.mysql.String()
	}
	domains := make([]uint32, 0, len(g.mariadb))
	for d := range g.mariadb {
		domains = append(domains, d)
	}
	sort.Slice(domains, func(i, j int) bool { return domains[i] < domains[j] })
	parts := make([]string, len(domains))
	for i, d := range domains {
		id := g.mariadb[d]
		parts[i] = id.String()
	}
	return strings.Join(parts, ",")
}

// snapshotPosition is the Position of snapshot rows' events.
func snapshotPosition(start Position) (event.Position, error) {
	c, err := event.BinlogCommit(start.File, start.Pos)
	return event.Position{Commit: c}, err
}

// alterOffset checks an offset set through the offsets API while the
// connector is stopped (the class's AlterOffset): {"file", "pos"} with,
// optionally, "gtids" and "snapshot_completed" (true unless given), under
// the connector's own partition, {"server": "<topic.prefix>"}. Streaming
// resumes from that position, so it must be one the server can stream
// from: a binlog file it still has (SHOW BINARY LOGS), a position within it
// where an event starts that is not inside a transaction (SHOW BINLOG
// EVENTS), and a GTID set in the server's flavor. It returns the state to
// store, with no snapshot under way. The schema history is cut back to the
// position when the connector starts; moving forward past schema changes
// with binlog_row_metadata other than FULL would decode the rows after them
// with the older definitions: reset the offsets instead.
func alterOffset(ctx context.Context, c *conf.Config, key string, offset json.RawMessage) (json.RawMessage, error) {
	cfg, err := ParseConfig(c)
	if err != nil {
		return nil, err
	}
	if own := cdc.OffsetKey(cfg.TopicPrefix); key != own {
		return nil, invalidOffset("partition %s is not this connector's: a MySQL source keeps its offset under %s (its topic.prefix)", partitionText(key), partitionText(own))
	}
	var doc struct {
		File              *string `json:"file"`
		Pos               *uint32 `json:"pos"`
		GTIDs             string  `json:"gtids"`
		SnapshotCompleted *bool   `json:"snapshot_completed"`
		cdc.Carried
	}
	dec := json.NewDecoder(bytes.NewReader(offset))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, invalidOffset(`a MySQL offset is {"file": <binlog file>, "pos": <position>} with, optionally, "gtids", "snapshot_completed" and the other fields GET shows ("incremental", "kafka_signal_offset", "captured_tables"): %s`, strings.TrimPrefix(err.Error(), "json: "))
	}
	if doc.File == nil || *doc.File == "" || doc.Pos == nil {
		return nil, invalidOffset(`a MySQL offset must hold "file" and "pos": the binlog file and the position in it to stream from, as SHOW BINARY LOGS and SHOW BINLOG EVENTS list them`)
	}
	p := Position{File: *doc.File, Pos: *doc.Pos, GTIDs: strings.TrimSpace(doc.GTIDs)}
	conn, err := (&Source{cfg: cfg}).connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := checkPosition(conn, p); err != nil {
		return nil, err
	}
	st := cdc.State[Position]{Position: p, Positioned: true, SnapshotCompleted: doc.SnapshotCompleted == nil || *doc.SnapshotCompleted}
	return json.Marshal(cdc.Carry(st, doc.Carried))
}

// checkPosition refuses a position the server cannot stream from.
func checkPosition(conn *client.Conn, p Position) error {
	rows, err := query(conn, "SHOW BINARY LOGS")
	if err != nil {
		return fmt.Errorf("list binlog files: %w", err)
	}
	size, found := int64(0), false
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = str(r[0])
		if names[i] == p.File {
			size, _ = strconv.ParseInt(str(r[1]), 10, 64)
			found = true
		}
	}
	switch {
	case !found:
		return invalidOffset("binlog file %s is not on the server (it has %s): it was purged, or never existed; "+
			"the changes since are gone, DELETE the offsets to take a new snapshot", p.File, strings.Join(names, ", "))
	case p.Pos < 4:
		return invalidOffset("pos %d is not a position in %s: events start at 4", p.Pos, p.File)
	case int64(p.Pos) > size:
		return invalidOffset("pos %d is beyond the end of %s (%d bytes)", p.Pos, p.File, size)
	}
	if int64(p.Pos) < size {
		// The name is one the server listed, so it quotes safely.
		rows, err := query(conn, fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d LIMIT 1", strings.ReplaceAll(p.File, "'", "''"), p.Pos))
		if err != nil {
			return invalidOffset("pos %d of %s is not where an event starts (%v): give a position SHOW BINLOG EVENTS lists", p.Pos, p.File, err)
		}
		if len(rows) > 0 && len(rows[0]) > 2 && insideTransaction(str(rows[0][2])) {
			return invalidOffset("pos %d of %s is inside a transaction (its event is %s): give the position of a transaction's first event, as SHOW BINLOG EVENTS lists it", p.Pos, p.File, str(rows[0][2]))
		}
	}
	if p.GTIDs != "" {
		flavor := gomysql.MySQLFlavor
		if v, err := query(conn, "SELECT VERSION()"); err == nil && len(v) > 0 && strings.Contains(strings.ToLower(str(v[0][0])), "mariadb") {
			flavor = gomysql.MariaDBFlavor
		}
		if _, err := parseGTIDSet(flavor, p.GTIDs); err != nil {
			return invalidOffset("gtids is not a %s GTID set: %v", flavor, err)
		}
	}
	return nil
}

// insideTransaction reports whether a binlog event of that type (as SHOW
// BINLOG EVENTS names it) only occurs inside a transaction.
func insideTransaction(eventType string) bool {
	for _, prefix := range []string{"Table_map", "Write_rows", "Update_rows", "Delete_rows", "Partial_update_rows", "Xid", "Rows_query", "Annotate_rows", "Intvar", "Rand", "User var"} {
		if strings.HasPrefix(eventType, prefix) {
			return true
		}
	}
	return false
}

// partitionText shows an offset key as the partition object the offsets
// API shows.
func partitionText(key string) string {
	k, v, _ := strings.Cut(key, "=")
	return fmt.Sprintf("{%q: %q}", k, v)
}

func invalidOffset(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{connectors.ErrInvalidOffset}, args...)...)
}
