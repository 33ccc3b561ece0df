package postgres

import (
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// Reads of one table that find it unchanged share one *event.Table (the
// Kafka writer derives a version's codecs once, keyed by it); a changed
// table is a new version that later reads share in turn; without versions
// every read keeps its own.
func TestChunkReadsShareTheTableVersion(t *testing.T) {
	table := func(cols ...string) *event.Table {
		tb := &event.Table{ID: event.TableID{Database: "db", Schema: "public", Table: "t"}, Key: []int{0}}
		for _, c := range cols {
			tb.Columns = append(tb.Columns, event.Column{Name: c, Schema: &event.Schema{Type: event.Int64}})
		}
		return tb
	}
	r := &tableReader{versions: map[string]*event.Table{}}
	first := table("id", "a")
	if got := r.version("public.t", first); got != first {
		t.Fatal("the first read's table is not its own")
	}
	if got := r.version("public.t", table("id", "a")); got != first {
		t.Fatal("an unchanged table did not take the version read before")
	}
	altered := table("id", "a", "b")
	if got := r.version("public.t", altered); got != altered {
		t.Fatal("a changed table took the version read before")
	}
	if got := r.version("public.t", table("id", "a", "b")); got != altered {
		t.Fatal("a read after the change did not take the changed version")
	}
	other := table("id", "a")
	other.ID.Table = "u"
	if got := r.version("public.u", other); got != other {
		t.Fatal("another table took a version of public.t")
	}
	alone := table("id", "a")
	if got := (&tableReader{}).version("public.t", alone); got != alone {
		t.Fatal("a reader without versions did not keep the table it read")
	}
}
