package mysql

import (
	"fmt"
	"sort"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

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
