package cdc

import "testing"

func parse(t *testing.T, raw map[string]string) (Config, error) {
	t.Helper()
	raw["topic.prefix"] = "p"
	c, err := NewSpec("database").Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ParseConfig(c, "database", func(db string) bool { return db == "mysql" })
}

func TestFilter(t *testing.T) {
	cfg, err := parse(t, map[string]string{"database.include.list": "shop.*", "table.exclude.list": `shop\.audit_.*`, "column.exclude.list": `shop\.users\.password`})
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Filter
	for _, tc := range []struct {
		db, table string
		want      bool
	}{{"shop", "orders", true}, {"shop_eu", "orders", true}, {"shop", "audit_log", false}, {"other", "orders", false}, {"mysql", "user", false}} {
		if got := f.Table(tc.db, tc.table); got != tc.want {
			t.Errorf("Table(%s, %s) = %v, want %v", tc.db, tc.table, got, tc.want)
		}
	}
	if f.Column("shop", "users", "password") || !f.Column("shop", "users", "email") {
		t.Error("column.exclude.list: want password dropped and email kept")
	}
	// Patterns match whole names: "shop.*" does not capture "workshop".
	if f.Table("workshop", "orders") {
		t.Error("database.include.list matched part of a name")
	}
}

func TestIncludeAndExcludeCannotCombine(t *testing.T) {
	_, err := parse(t, map[string]string{"database.include.list": "a", "database.exclude.list": "b", "column.include.list": "a.b.c", "column.exclude.list": "a.b.d"})
	want := "database.exclude.list: cannot be combined with database.include.list; use one of them; column.exclude.list: cannot be combined with column.include.list; use one of them"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestKeyColumns(t *testing.T) {
	cfg, err := parse(t, map[string]string{"message.key.columns": `shop\.orders:tenant,id; shop\.events_.*:event_id`})
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.KeyColumns
	if got := k.For("shop.orders"); len(got) != 2 || got[0] != "tenant" || got[1] != "id" {
		t.Errorf("shop.orders: %v", got)
	}
	if got := k.For("shop.events_2026"); len(got) != 1 || got[0] != "event_id" {
		t.Errorf("shop.events_2026: %v", got)
	}
	if k.For("shop.orders_archive") != nil {
		t.Error("a pattern matched part of a table name")
	}
	_, err = NewSpec("database").Parse(map[string]string{"topic.prefix": "p", "message.key.columns": "shop.orders"})
	if err == nil || err.Error() != `message.key.columns: invalid entry "shop.orders": want schema.table:column[,column]` {
		t.Fatalf("err = %v", err)
	}
}
