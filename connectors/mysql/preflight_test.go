package mysql_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/connectors"
)

// TestPreflightServerIDInUse connects a replica with the connector's
// database.server.id first: the source refuses to start, naming the key.
func TestPreflightServerIDInUse(t *testing.T) {
	h := newHarness(t, map[string]string{})
	host, port, _ := strings.Cut(h.addr, ":")
	p, _ := strconv.Atoi(port)
	id, _ := strconv.Atoi(h.serverID)
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{ServerID: uint32(id), Flavor: gomysql.MariaDBFlavor,
		Host: host, Port: uint16(p), User: h.user, Password: h.pass, Logger: h.logger()})
	defer syncer.Close()
	res, err := h.conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := res.GetString(0, 0)
	pos, _ := res.GetUint(0, 1)
	if _, err := syncer.StartSync(gomysql.Position{Name: file, Pos: uint32(pos)}); err != nil {
		t.Fatal(err)
	}
	h.start()
	err = h.wait(30e9)
	want := fmt.Sprintf("preflight of %s@%s failed: database.server.id %s is used by another replica connected to the server (SHOW SLAVE HOSTS): "+
		"give this connector a database.server.id no other replica uses", h.user, h.addr, h.serverID)
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v, want permanent %q", err, want)
	}
}

// TestPreflightUserWithoutReplicationPrivileges runs the source as a user
// that may only SELECT, and with a wrong password.
func TestPreflightUserWithoutReplicationPrivileges(t *testing.T) {
	h := newHarness(t, map[string]string{})
	user := fmt.Sprintf("sel_%d", rand.IntN(1<<30))
	h.exec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'pw'", user), fmt.Sprintf("GRANT SELECT ON %s.* TO '%s'@'%%'", h.db, user))
	t.Cleanup(func() { _, _ = h.conn.Execute(fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	h.extra["database.user"], h.extra["database.password"] = user, "pw"
	h.start()
	err := h.wait(30e9)
	want := fmt.Sprintf(`preflight of %s@%s failed: user %q lacks REPLICATION SLAVE, BINLOG MONITOR: grant them with GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO the user of database.user`, user, h.addr, user)
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v, want permanent %q", err, want)
	}

	h.extra["database.password"] = "wrong"
	h.start()
	err = h.wait(30e9)
	if err == nil || !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "1045") || !strings.HasSuffix(err.Error(), "(check database.user and database.password)") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err = %v, want a permanent access-denied error that does not show the password", err)
	}
}
