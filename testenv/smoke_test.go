package testenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/testenv"
)

const smokeTimeout = 60 * time.Second

// The row every smoke test writes and expects to read back.
const (
	rowID   = 42
	rowName = "sluice ✓"
	rowQty  = int64(1234567890123)
)

// TestPostgresLogicalReplication proves the PostgreSQL server decodes logical
// replication with pgoutput: an INSERT made after the slot was created comes
// back as a Relation and an Insert message with the inserted values.
func TestPostgresLogicalReplication(t *testing.T) {
	dsn := testenv.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), smokeTimeout)
	defer cancel()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	table := testenv.Name(t, "smoke")
	pub, slot := table+"_pub", table+"_slot"
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(fmt.Sprintf(`CREATE TABLE %s (id int PRIMARY KEY, name text NOT NULL, qty bigint)`, table))
	mustExec(fmt.Sprintf(`CREATE PUBLICATION %s FOR TABLE %s`, pub, table))
	// Cleanups run last-in first-out: the replication connection closes
	// before the slot, publication and table are dropped.
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
		_, _ = conn.Exec(ctx, `DROP PUBLICATION IF EXISTS `+pub)
		_, _ = conn.Exec(ctx, `DROP TABLE IF EXISTS `+table)
	})

	replConn, err := pgconn.Connect(ctx, withQuery(t, dsn, "replication", "database"))
	if err != nil {
		t.Fatalf("replication connection: %v", err)
	}
	t.Cleanup(func() { _ = replConn.Close(context.Background()) })

	created, err := pglogrepl.CreateReplicationSlot(ctx, replConn, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication})
	if err != nil {
		t.Fatalf("create slot %s: %v", slot, err)
	}
	startLSN, err := pglogrepl.ParseLSN(created.ConsistentPoint)
	if err != nil {
		t.Fatalf("slot consistent point %q: %v", created.ConsistentPoint, err)
	}

	mustExec(fmt.Sprintf(`INSERT INTO %s (id, name, qty) VALUES ($1, $2, $3)`, table), rowID, rowName, rowQty)

	err = pglogrepl.StartReplication(ctx, replConn, slot, startLSN, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + pub + "'"},
	})
	if err != nil {
		t.Fatalf("start replication on slot %s: %v", slot, err)
	}

	var rel *pglogrepl.RelationMessage
	var ins *pglogrepl.InsertMessage
	for ins == nil {
		msg, err := replConn.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("receive (relation seen: %v): %v", rel != nil, err)
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok {
			t.Fatalf("unexpected message %T", msg)
		}
		switch cd.Data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(cd.Data[1:])
			if err != nil {
				t.Fatalf("parse keepalive: %v", err)
			}
			if ka.ReplyRequested {
				err := pglogrepl.SendStandbyStatusUpdate(ctx, replConn, pglogrepl.StandbyStatusUpdate{WALWritePosition: startLSN})
				if err != nil {
					t.Fatalf("standby status update: %v", err)
				}
			}
		case pglogrepl.XLogDataByteID:
			xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
			if err != nil {
				t.Fatalf("parse XLogData: %v", err)
			}
			m, err := pglogrepl.Parse(xld.WALData)
			if err != nil {
				t.Fatalf("parse pgoutput message: %v", err)
			}
			switch m := m.(type) {
			case *pglogrepl.RelationMessage:
				rel = m
			case *pglogrepl.InsertMessage:
				ins = m
			}
		}
	}

	if rel == nil {
		t.Fatal("Insert arrived without a Relation message before it")
	}
	if rel.Namespace != "public" || rel.RelationName != table {
		t.Errorf("relation = %s.%s, want public.%s", rel.Namespace, rel.RelationName, table)
	}
	var cols []string
	for _, c := range rel.Columns {
		cols = append(cols, c.Name)
	}
	if want := []string{"id", "name", "qty"}; !reflect.DeepEqual(cols, want) {
		t.Errorf("relation columns = %v, want %v", cols, want)
	}
	if len(rel.Columns) == 3 && rel.Columns[0].Flags != 1 {
		t.Errorf("column id flags = %d, want 1 (part of the key)", rel.Columns[0].Flags)
	}
	if ins.RelationID != rel.RelationID {
		t.Errorf("insert relation id = %d, want %d", ins.RelationID, rel.RelationID)
	}
	var vals []string
	for _, c := range ins.Tuple.Columns {
		if c.DataType != pglogrepl.TupleDataTypeText {
			t.Errorf("column data type = %q, want text %q", c.DataType, pglogrepl.TupleDataTypeText)
		}
		vals = append(vals, string(c.Data))
	}
	if want := []string{strconv.Itoa(rowID), rowName, strconv.FormatInt(rowQty, 10)}; !reflect.DeepEqual(vals, want) {
		t.Errorf("inserted tuple = %q, want %q", vals, want)
	}
}

// TestMariaDBBinlog proves the MariaDB server writes ROW binlogs with full
// metadata and GTIDs that a replica can stream: an INSERT made after the
// recorded GTID position comes back as a rows event with column names and the
// inserted values.
func TestMariaDBBinlog(t *testing.T) {
	cfg := parseDSN(t, testenv.MySQLDSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), smokeTimeout)
	defer cancel()

	conn, err := client.ConnectWithContext(ctx, cfg.addr(), cfg.user, cfg.password, cfg.db, 10*time.Second)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	mustExec := func(sql string, args ...any) *mysql.Result {
		t.Helper()
		r, err := conn.Execute(sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return r
	}

	for name, want := range map[string]string{
		"binlog_format":        "ROW",
		"binlog_row_image":     "FULL",
		"binlog_row_metadata":  "FULL",
		"gtid_strict_mode":     "1",
		"log_bin":              "1",
		"server_id":            "1",
		"binlog_checksum":      "CRC32",
		"character_set_server": "utf8mb4",
	} {
		r := mustExec("SELECT @@" + name)
		if got, _ := r.GetString(0, 0); got != want {
			t.Errorf("@@%s = %q, want %q", name, got, want)
		}
	}

	table := testenv.Name(t, "smoke")
	mustExec(fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty BIGINT) CHARACTER SET utf8mb4", table))
	t.Cleanup(func() { _, _ = conn.Execute("DROP TABLE IF EXISTS " + table) })

	status := mustExec("SHOW MASTER STATUS")
	file, _ := status.GetStringByName(0, "File")
	pos, _ := status.GetIntByName(0, "Position")
	gtidPos, _ := mustExec("SELECT @@gtid_current_pos").GetString(0, 0)
	if file == "" || pos == 0 || gtidPos == "" {
		t.Fatalf("binlog position: file %q, position %d, gtid %q; want all set", file, pos, gtidPos)
	}
	t.Logf("binlog at %s:%d, gtid_current_pos %s", file, pos, gtidPos)
	start, err := mysql.ParseMariadbGTIDSet(gtidPos)
	if err != nil {
		t.Fatalf("parse gtid %q: %v", gtidPos, err)
	}

	mustExec(fmt.Sprintf("INSERT INTO %s (id, name, qty) VALUES (?, ?, ?)", table), rowID, rowName, rowQty)

	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:         1000 + rand.Uint32N(1_000_000), // unique among this server's replicas
		Flavor:           mysql.MariaDBFlavor,
		Host:             cfg.host,
		Port:             cfg.port,
		User:             cfg.user,
		Password:         cfg.password,
		VerifyChecksum:   true,
		DisableRetrySync: true,
		Logger:           slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	t.Cleanup(syncer.Close)
	streamer, err := syncer.StartSyncGTID(start)
	if err != nil {
		t.Fatalf("start binlog sync at %s: %v", gtidPos, err)
	}

	var gtid *replication.MariadbGTIDEvent
	for {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			t.Fatalf("read binlog event: %v", err)
		}
		switch e := ev.Event.(type) {
		case *replication.MariadbGTIDEvent:
			gtid = e
		case *replication.RowsEvent:
			if string(e.Table.Table) != table {
				continue
			}
			if e.Type() != replication.EnumRowsEventTypeInsert {
				t.Fatalf("rows event type %v, want insert", e.Type())
			}
			if got, want := string(e.Table.Schema), cfg.db; got != want {
				t.Errorf("schema = %q, want %q", got, want)
			}
			if got, want := e.Table.ColumnNameString(), []string{"id", "name", "qty"}; !reflect.DeepEqual(got, want) {
				t.Errorf("column names = %v, want %v (binlog_row_metadata=FULL)", got, want)
			}
			want := [][]any{{int32(rowID), rowName, rowQty}}
			if !reflect.DeepEqual(e.Rows, want) {
				t.Errorf("rows = %#v, want %#v", e.Rows, want)
			}
			if gtid == nil {
				t.Fatal("rows event without a GTID event before it")
			}
			if gtid.GTID.DomainID != 0 || gtid.GTID.ServerID != 1 {
				t.Errorf("insert GTID = %s, want domain 0, server 1", gtid.GTID.String())
			}
			t.Logf("insert at GTID %s", gtid.GTID.String())
			return
		}
	}
}

// TestKafkaProduceConsume proves the Kafka broker accepts a new topic, a
// produced record and a consumer that reads it back.
func TestKafkaProduceConsume(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), smokeTimeout)
	defer cancel()

	admin, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	t.Cleanup(admin.Close)
	adm := kadm.NewClient(admin)
	topic := testenv.Name(t, "smoke")
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopic(context.Background(), topic) })

	producer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	t.Cleanup(producer.Close)
	sent := &kgo.Record{
		Key:     []byte("key-" + topic),
		Value:   []byte(`{"id":42,"name":"sluice ✓"}`),
		Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("smoke")}},
	}
	if err := producer.ProduceSync(ctx, sent).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	t.Cleanup(consumer.Close)
	var got []*kgo.Record
	for len(got) == 0 {
		fetches := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no record consumed from %s: %v", topic, err)
		}
		for _, fe := range fetches.Errors() {
			t.Fatalf("fetch %s[%d]: %v", fe.Topic, fe.Partition, fe.Err)
		}
		got = append(got, fetches.Records()...)
	}

	if len(got) != 1 {
		t.Fatalf("consumed %d records, want 1", len(got))
	}
	r := got[0]
	if r.Topic != topic || r.Partition != 0 || r.Offset != 0 {
		t.Errorf("record at %s[%d]@%d, want %s[0]@0", r.Topic, r.Partition, r.Offset, topic)
	}
	if !bytes.Equal(r.Key, sent.Key) || !bytes.Equal(r.Value, sent.Value) {
		t.Errorf("record key/value = %q/%q, want %q/%q", r.Key, r.Value, sent.Key, sent.Value)
	}
	if !reflect.DeepEqual(r.Headers, sent.Headers) {
		t.Errorf("record headers = %v, want %v", r.Headers, sent.Headers)
	}
}

// TestElasticsearchIndexGet proves the Elasticsearch node is the real product
// (the client checks the X-Elastic-Product header) and stores and returns a
// document.
func TestElasticsearchIndexGet(t *testing.T) {
	esURL := testenv.ElasticsearchURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), smokeTimeout)
	defer cancel()

	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	index := testenv.Name(t, "smoke")
	t.Cleanup(func() {
		if res, err := es.Indices.Delete([]string{index}); err == nil {
			_ = res.Body.Close()
		}
	})

	doc := map[string]any{"id": float64(rowID), "name": rowName, "qty": float64(rowQty), "tags": []any{"a", "b"}}
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := es.Index(index, bytes.NewReader(body),
		es.Index.WithContext(ctx), es.Index.WithDocumentID("42"), es.Index.WithRefresh("true"))
	if err != nil {
		t.Fatalf("index into %s: %v", index, err)
	}
	indexed := readJSON(t, res.Body)
	if res.StatusCode != 201 || indexed["result"] != "created" {
		t.Fatalf("index: status %d, body %v; want 201 created", res.StatusCode, indexed)
	}
	if got := res.Header.Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Errorf("X-Elastic-Product = %q, want Elasticsearch", got)
	}

	res, err = es.Get(index, "42", es.Get.WithContext(ctx))
	if err != nil {
		t.Fatalf("get %s/42: %v", index, err)
	}
	got := readJSON(t, res.Body)
	if res.StatusCode != 200 || got["found"] != true {
		t.Fatalf("get: status %d, body %v; want 200 found", res.StatusCode, got)
	}
	if got["_index"] != index || got["_id"] != "42" {
		t.Errorf("got %v/%v, want %s/42", got["_index"], got["_id"], index)
	}
	if !reflect.DeepEqual(got["_source"], doc) {
		t.Errorf("_source = %v, want %v", got["_source"], doc)
	}
}

func readJSON(t *testing.T, body io.ReadCloser) map[string]any {
	t.Helper()
	defer body.Close()
	var m map[string]any
	if err := json.NewDecoder(body).Decode(&m); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return m
}

// withQuery returns rawURL with key=value added to its query.
func withQuery(t *testing.T, rawURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %s: %v", testenv.EnvPostgresURL, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

type mysqlConfig struct {
	user, password, host, db string
	port                     uint16
}

func (c mysqlConfig) addr() string { return fmt.Sprintf("%s:%d", c.host, c.port) }

var dsnRE = regexp.MustCompile(`^([^:@]*):([^@]*)@tcp\(([^:)]+):(\d+)\)/([^?]+)`)

// parseDSN reads the user:password@tcp(host:port)/db form of MySQLDSN.
func parseDSN(t *testing.T, dsn string) mysqlConfig {
	t.Helper()
	m := dsnRE.FindStringSubmatch(dsn)
	if m == nil {
		t.Fatalf("%s is not user:password@tcp(host:port)/db", testenv.EnvMySQLDSN)
	}
	port, err := strconv.ParseUint(m[4], 10, 16)
	if err != nil {
		t.Fatalf("%s port %q: %v", testenv.EnvMySQLDSN, m[4], err)
	}
	return mysqlConfig{user: m[1], password: m[2], host: m[3], port: uint16(port), db: strings.TrimSpace(m[5])}
}
