package sse

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzLastEventID: an id a client sends is refused by validIDChars, or
// decodes to a position of the layout that encodes back to an id decoding
// to the same position, or is an unknown id (errBadID) the client is
// reset with; it never panics.
func FuzzLastEventID(f *testing.F) {
	l := newLayout(map[string]int32{"shop.public.orders": 2, "shop.public.items": 1})
	for _, seed := range []string{
		l.encode(position{{0}, {5, 7}}),
		l.encode(position{{1 << 40}, {0, 0}}),
		"AQ", "", "%00", "../..", "AQAAAAA", strings.Repeat("A", maxIDLen+1), "_-_-",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !validIDChars(id) {
			return
		}
		p, err := l.decode(id)
		if err != nil {
			if !errors.Is(err, errBadID) {
				t.Fatalf("decode(%q): %v does not wrap errBadID", id, err)
			}
			return
		}
		if len(p) != len(l.topics) {
			t.Fatalf("decode(%q) = %v: %d topics, want %d", id, p, len(p), len(l.topics))
		}
		back, err := l.decode(l.encode(p))
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("decode(%q) = %v, but its encoding decodes to %v, %v", id, p, back, err)
		}
	})
}

// FuzzParseFilter: any query either parses into a filter whose tables are
// schema.table and whose ops are Debezium's, or is refused with a
// *FilterError naming a parameter; it never panics.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"table=public.orders,public.items&op=c,u&where=customer_id:42",
		"topic=a.b.c&where=note:a%3Ab&where=id:1",
		"table=orders", "op=x", "where=novalue", "where=:1", "table=.", "op=", "%zz", "table=a.b%00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		flt, err := ParseFilter(q)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "invalid parameter "+fe.Param+": ") {
				t.Fatalf("ParseFilter(%q): %v is not a *FilterError naming its parameter", query, err)
			}
			return
		}
		for _, tb := range flt.Tables {
			if s, tab, ok := strings.Cut(tb, "."); !ok || s == "" || tab == "" {
				t.Fatalf("ParseFilter(%q) accepted table %q", query, tb)
			}
		}
	})
}

// FuzzParseFrom: the from parameter is empty, "earliest" or an RFC 3339
// time, or a *FilterError naming it; never a panic.
func FuzzParseFrom(f *testing.F) {
	for _, seed := range []string{"", "earliest", "2024-02-29T10:11:12Z", "1700000000123", "-1", "99999999999999999999", "2024-13-01T00:00:00Z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		earliest, at, err := parseFrom(v)
		var fe *FilterError
		if err != nil && (earliest || !at.IsZero() || !errors.As(err, &fe) || fe.Param != "from") {
			t.Fatalf("parseFrom(%q) = %v, %v with error %v", v, earliest, at, err)
		}
		if earliest && v != "earliest" {
			t.Fatalf("parseFrom(%q) = earliest", v)
		}
	})
}
