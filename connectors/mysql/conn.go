package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/connectors"
)

// connectTimeout bounds dialling and the handshake.
const connectTimeout = 10 * time.Second

// connect opens a connection for catalog queries and snapshots, with UTC
// as its time zone so that TIMESTAMP values read as the binlog holds them.
func (s *Source) connect(ctx context.Context) (*client.Conn, error) {
	conn, err := client.ConnectWithContext(ctx, s.cfg.Addr(), s.cfg.User, s.cfg.Password, "", connectTimeout,
		func(c *client.Conn) error { return c.SetCharset("utf8mb4") })
	if err != nil {
		return nil, connectError(s.cfg, err)
	}
	if _, err := conn.Execute("SET SESSION time_zone = '+00:00', SESSION sql_mode = ''"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("set up session on %s: %w", s.cfg.Redacted(), err)
	}
	return conn, nil
}

// connectError names the server without the password and marks failures
// that retrying cannot cure permanent: access denied (1045, 1044, 1227).
func connectError(cfg *Config, err error) error {
	err = fmt.Errorf("connect to %s: %w", cfg.Redacted(), err)
	if isAccessDenied(err) {
		return connectors.Permanent(fmt.Errorf("%w (check database.user and database.password)", err))
	}
	return err
}

// needsChange marks permanent an error only a person can cure, whichever
// statement met it: a privilege the user lacks (for example RELOAD for the
// snapshot's read lock, or SELECT revoked while running).
func needsChange(err error) error {
	if err != nil && !errors.Is(err, connectors.ErrPermanent) && isAccessDenied(err) {
		return connectors.Permanent(err)
	}
	return err
}

// isAccessDenied reports a server error for a privilege the user lacks:
// access to the server or a database (1045, 1044), to a table or column
// (1142, 1143), or a global privilege (1227).
func isAccessDenied(err error) bool {
	var my *gomysql.MyError
	if errors.As(err, &my) {
		switch my.Code {
		case gomysql.ER_ACCESS_DENIED_ERROR, gomysql.ER_DBACCESS_DENIED_ERROR, gomysql.ER_TABLEACCESS_DENIED_ERROR,
			gomysql.ER_COLUMNACCESS_DENIED_ERROR, gomysql.ER_SPECIFIC_ACCESS_DENIED_ERROR:
			return true
		}
	}
	return false
}

// query runs a statement and returns its rows as text (NULL as nil).
func query(conn *client.Conn, sql string, args ...any) ([][]*string, error) {
	res, err := conn.Execute(sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", firstWords(sql), err)
	}
	defer res.Close()
	if res.Resultset == nil {
		return nil, nil
	}
	out := make([][]*string, len(res.Values))
	for i, row := range res.Values {
		out[i] = make([]*string, len(row))
		for j := range row {
			if row[j].Type == gomysql.FieldValueTypeNull {
				continue
			}
			var s string
			if row[j].Type == gomysql.FieldValueTypeString {
				s = string(row[j].AsString())
			} else {
				s = row[j].String()
			}
			out[i][j] = &s
		}
	}
	return out, nil
}

// str dereferences a text value, NULL being "".
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func firstWords(sql string) string {
	f := strings.Fields(sql)
	if len(f) > 4 {
		f = f[:4]
	}
	return strings.Join(f, " ")
}

// quoteIdent quotes an identifier with backticks.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
