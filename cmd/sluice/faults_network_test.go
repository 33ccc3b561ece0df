package main

import (
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
	"github.com/sluice-cdc/sluice/testenv/faults"
	"github.com/sluice-cdc/sluice/testenv/mysqltest"
)

// TestFaultNetworkCut puts a TCP proxy the test controls between the
// daemon and its database, Postgres or MariaDB, and cuts every connection
// through it at random moments — the first while the initial snapshot
// reads, the others while transactions of several rows stream — refusing
// new ones for a while each time. The source reconnects and resumes from
// its confirmed position: nothing is lost, order per key holds, and the
// snapshot's rows and the stream's changes end as the table.
func TestFaultNetworkCut(t *testing.T) {
	for _, src := range []faultSource{onPostgres, onMariaDB} {
		t.Run(src.String(), func(t *testing.T) { networkCuts(t, src) })
	}
}

func networkCuts(t *testing.T, src faultSource) {
	var target string
	if src == onPostgres {
		pgURL, err := url.Parse(testenv.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		target = pgURL.Host
	} else {
		target = mysqltest.Lookup(t).Addr
	}
	proxy := faults.NewProxy(t, target)
	r := newFaultRig(t, src, rigOptions{keys: map[string]string{
		"database.hostname": "127.0.0.1", "database.port": proxy.Port(), "snapshot.fetch.size": "50"}})
	r.steps(byLength(300, 3000))
	d := r.start()
	r.waitState("RUNNING", 60*time.Second)
	from := r.writer.Next()
	stopWriter := r.writer.Start(t.Context(), 150)
	var slowest time.Duration
	cuts := byLength(3, 20)
	for i := range cuts {
		if i > 0 {
			time.Sleep(500*time.Millisecond + rand.N(1500*time.Millisecond))
		}
		n := proxy.Cut(true)
		time.Sleep(rand.N(2 * time.Second))
		proxy.Restore()
		back, mark := time.Now(), r.writer.Next()
		took := r.recovered(mark, back, 2*time.Minute)
		slowest = max(slowest, took)
		t.Logf("cut %d: %d connections; changes flowing again %v after the network was back", i+1, n, took.Round(time.Millisecond))
	}
	if err := stopWriter(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rep, took := r.verify(from, true)
	t.Logf("%d cuts, %d transactions; %s; slowest recovery %v; caught up %v after the workload; replayed by key: %s",
		cuts, r.writer.Transactions(), rep, slowest.Round(time.Millisecond), took.Round(time.Millisecond), r.verifyState())
	d.terminate(20 * time.Second)
}
