package transforms_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/kafkatest"
	"github.com/sluice-cdc/sluice/testenv/pgtest"
	"github.com/sluice-cdc/sluice/testenv/registrytest"
)

// ExtractNewRecordState on the Postgres source: the rows, not envelopes,
// reach Kafka, with __deleted and the added envelope fields, and the
// schema registered once for the topic serves creates, updates and
// rewritten deletes alike.
func TestUnwrapOnPostgres(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	pg := pgtest.NewDatabase(t, "unwrap")
	kafkatest.DeleteTopicsAtCleanup(t, brokers, func(topic string) bool { return strings.HasPrefix(topic, pg.Name+".") })
	reg := registrytest.Start(t, brokers, "_schemas_"+pg.Name)
	conn := pg.Connect(t)
	pgtest.Exec(t, conn, `CREATE TABLE customers (id int PRIMARY KEY, first_name text NOT NULL, email text)`,
		`ALTER TABLE customers REPLICA IDENTITY FULL`) // a delete's before row is whole

	u := pg.URL
	pw, _ := u.User.Password()
	running := startSource(t, brokers, reg.Client, map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": u.Hostname(), "database.port": u.Port(),
		"database.user": u.User.Username(), "database.password": pw,
		"database.dbname": pg.Name, "database.sslmode": "disable",
		"topic.prefix": pg.Name, "slot.name": pg.Name, "publication.name": pg.Name,
		"producer.override.linger.ms":                      "1",
		"transforms":                                       "unwrap",
		"transforms.unwrap.type":                           "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
		"transforms.unwrap.add.fields":                     "op,table",
	})
	select {
	case <-running:
	case <-time.After(60 * time.Second):
		t.Fatal("the source did not report Running within 60 s")
	}
	pgtest.Exec(t, conn,
		`INSERT INTO customers VALUES (1004, 'Anne', 'annek@noanswer.org')`,
		`UPDATE customers SET first_name = 'Anne Marie', email = NULL WHERE id = 1004`,
		`DELETE FROM customers WHERE id = 1004`,
	)

	topic := pg.Name + ".public.customers"
	cl := kafkatest.NewClient(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var keys, values []any
	schemaIDs := map[uint32]bool{}
	for len(values) < 3 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			keys = append(keys, decodeFramed(t, ctx, reg.Client, r.Key))
			values = append(values, decodeFramed(t, ctx, reg.Client, r.Value))
			schemaIDs[uint32(r.Value[1])<<24|uint32(r.Value[2])<<16|uint32(r.Value[3])<<8|uint32(r.Value[4])] = true
		})
	}
	want := []any{
		event.Row{int32(1004), "Anne", "annek@noanswer.org", "false", "c", "customers"},
		event.Row{int32(1004), "Anne Marie", nil, "false", "u", "customers"},
		event.Row{int32(1004), "Anne Marie", nil, "true", "d", "customers"},
	}
	if !reflect.DeepEqual(values, want) {
		t.Errorf("%s holds\n%v\nwant\n%v", topic, values, want)
	}
	for _, k := range keys {
		if !reflect.DeepEqual(k, event.Row{int32(1004)}) {
			t.Errorf("key %v, want [1004]", k)
		}
	}
	if len(schemaIDs) != 1 {
		t.Errorf("the values were written with %d schemas, want one", len(schemaIDs))
	}
}
