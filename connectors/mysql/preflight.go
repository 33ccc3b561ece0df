package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/connectors"
)

// serverIDWait is how long preflight waits for a replica connection using
// the connector's server id to go away: that of a previous run of this
// connector ends a moment after it stopped.
const serverIDWait = 5 * time.Second

// preflight checks that the server can be captured and records its flavor
// and server id. Its errors are permanent and say what to change.
func (s *Source) preflight(ctx context.Context, conn *client.Conn) error {
	rows, err := query(conn, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'server_id', 'log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata')")
	if err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	vars := map[string]string{}
	for _, r := range rows {
		vars[strings.ToLower(str(r[0]))] = str(r[1])
	}
	s.flavor = gomysql.MySQLFlavor
	if strings.Contains(strings.ToLower(vars["version"]), "mariadb") {
		s.flavor = gomysql.MariaDBFlavor
	}
	id, _ := strconv.ParseUint(vars["server_id"], 10, 32)
	s.serverID = uint32(id)
	var problems []string
	if !strings.EqualFold(vars["log_bin"], "ON") && vars["log_bin"] != "1" {
		problems = append(problems, "binary logging is off: start the server with log_bin")
	}
	if v := vars["binlog_format"]; !strings.EqualFold(v, "ROW") {
		problems = append(problems, fmt.Sprintf("binlog_format is %s: set binlog_format=ROW", v))
	}
	if v := vars["binlog_row_image"]; !strings.EqualFold(v, "FULL") {
		problems = append(problems, fmt.Sprintf("binlog_row_image is %s: set binlog_row_image=FULL", v))
	}
	s.fullMetadata = strings.EqualFold(vars["binlog_row_metadata"], "FULL") && !s.stripMetadata
	if !s.fullMetadata {
		v := vars["binlog_row_metadata"]
		if v == "" {
			v = "not supported by this server version"
		}
		s.logger.Warn("binlog_row_metadata is not FULL, so row events do not name their columns: rows are decoded with the table definitions of the schema history, "+
			"kept in the offset store under "+historyKey(s.cfg.TopicPrefix)+"; every DDL statement on a captured table must be one the schema history parses "+
			"(otherwise the connector stops, unless it reads the statement at the server's current position and can re-read the table). "+
			"Set binlog_row_metadata=FULL (MySQL 8.0.1+, MariaDB 10.5+) to decode rows by the names the binlog carries",
			"binlog_row_metadata", v)
	}
	if missing, err := s.missingPrivileges(conn); err != nil {
		return err
	} else if missing != "" {
		problems = append(problems, fmt.Sprintf("user %q lacks %s: grant them with GRANT %s ON *.* TO the user of database.user", s.cfg.User, missing, missing))
	}
	if len(problems) > 0 {
		return connectors.Permanent(fmt.Errorf("preflight of %s failed: %s", s.cfg.Redacted(), strings.Join(problems, "; ")))
	}
	if s.cfg.ServerID == s.serverID {
		s.logger.Warn("database.server.id equals the server's own server_id; give the connector an id of its own", "server_id", s.serverID)
	}
	return s.checkServerIDFree(ctx, conn)
}

// missingPrivileges names the global privileges the user lacks among
// REPLICATION SLAVE, REPLICATION CLIENT (MariaDB: BINLOG MONITOR) and
// SELECT, as SHOW GRANTS lists them.
func (s *Source) missingPrivileges(conn *client.Conn) (string, error) {
	rows, err := query(conn, "SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		return "", fmt.Errorf("preflight: %w", err)
	}
	var global, anySelect string
	for _, r := range rows {
		g := strings.ToUpper(str(r[0]))
		privs, on, _ := strings.Cut(strings.TrimPrefix(g, "GRANT "), " ON ")
		if strings.HasPrefix(strings.TrimSpace(on), "*.*") {
			global += "," + privs
		}
		if strings.Contains(privs, "SELECT") || strings.Contains(privs, "ALL PRIVILEGES") {
			anySelect = "yes"
		}
	}
	if strings.Contains(global, "ALL PRIVILEGES") {
		return "", nil
	}
	has := func(p string) bool {
		for _, x := range strings.Split(global, ",") {
			if strings.TrimSpace(x) == p {
				return true
			}
		}
		return false
	}
	var missing []string
	if !has("REPLICATION SLAVE") && !has("REPLICATION REPLICA") {
		missing = append(missing, "REPLICATION SLAVE")
	}
	client := "REPLICATION CLIENT"
	if s.flavor == gomysql.MariaDBFlavor {
		client = "BINLOG MONITOR"
	}
	if !has("REPLICATION CLIENT") && !has("BINLOG MONITOR") && !has("SUPER") {
		missing = append(missing, client)
	}
	if anySelect == "" {
		missing = append(missing, "SELECT")
	}
	return strings.Join(missing, ", "), nil
}

// checkServerIDFree fails when another replica connected to the server
// uses database.server.id (SHOW SLAVE HOSTS): the server would drop one of
// the two connections whenever the other connects.
func (s *Source) checkServerIDFree(ctx context.Context, conn *client.Conn) error {
	deadline := time.Now().Add(serverIDWait)
	for {
		rows, err := query(conn, "SHOW SLAVE HOSTS")
		if err != nil {
			if rows, err = query(conn, "SHOW REPLICAS"); err != nil {
				s.logger.Info("cannot list replicas to check database.server.id; skipping the check", "error", err)
				return nil
			}
		}
		taken := false
		for _, r := range rows {
			if str(r[0]) == strconv.FormatUint(uint64(s.cfg.ServerID), 10) {
				taken = true
			}
		}
		if !taken {
			return nil
		}
		if time.Now().After(deadline) {
			return connectors.Permanent(fmt.Errorf("preflight of %s failed: database.server.id %d is used by another replica connected to the server (SHOW SLAVE HOSTS): give this connector a database.server.id no other replica uses",
				s.cfg.Redacted(), s.cfg.ServerID))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// binlogFiles lists the binlog files the server still has.
func binlogFiles(conn *client.Conn) ([]string, error) {
	rows, err := query(conn, "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("list binlog files: %w", err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = str(r[0])
	}
	return out, nil
}
