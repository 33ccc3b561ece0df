package mysql

import (
	"testing"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/metrics"
)

// The lag is the binlog read since the last confirmed end: ends handed on
// count only once confirmed, in order, a batch confirming several at once.
func TestLagMeterCountsFromTheLastConfirmedEnd(t *testing.T) {
	reg := metrics.NewRegistry()
	m := &lagMeter{metrics: cdc.NewMetrics(reg, "c")}
	gauge := reg.Gauge("sluice_source_lag_bytes", "", []string{"connector"}, "c")
	a, b, c := Position{File: "bin.1", Pos: 100}, Position{File: "bin.1", Pos: 250}, Position{File: "bin.2", Pos: 40}
	m.readEvent(100)
	m.handedOn(a, m.bytesRead())
	m.readEvent(150)
	m.handedOn(b, m.bytesRead())
	m.readEvent(60)
	m.handedOn(c, m.bytesRead())
	m.readEvent(5)
	if got := gauge.Value(); got != 310 {
		t.Fatalf("nothing confirmed: lag %v, want 310 (the last hand-on's count)", got)
	}
	m.confirm(b) // a batch ending at b confirms a too
	if got := gauge.Value(); got != 65 {
		t.Fatalf("b confirmed: lag %v, want 315-250", got)
	}
	m.confirm(Position{File: "bin.9", Pos: 1}) // not an end of this stream
	if got := gauge.Value(); got != 65 || len(m.marks) != 1 {
		t.Fatalf("an unknown position: lag %v with %d marks, want 65 with 1", got, len(m.marks))
	}
	m.confirm(c)
	if got := gauge.Value(); got != 5 || len(m.marks) != 0 {
		t.Fatalf("c confirmed: lag %v with %d marks, want 5 with none", got, len(m.marks))
	}
}
