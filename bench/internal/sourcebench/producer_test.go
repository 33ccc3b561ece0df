package sourcebench

import "testing"

func TestProducerCeilingCompare(t *testing.T) {
	f := Figures{Rows: 1_000_000, WallSeconds: 4}
	f.Derive()
	p := ProducerCeiling{ProducerWallSeconds: 2, ProducerCPU: 3}
	p.Compare(&f)
	want := ProducerCeiling{ProducerWallSeconds: 2, ProducerCPU: 3,
		ProducerRowsPerSecond: 500_000, ProducerCPUPerMillion: 3, PercentOfProducer: 50}
	if p != want {
		t.Errorf("Compare: got %+v, want %+v", p, want)
	}

	off := ProducerCeiling{}
	off.Compare(&f)
	if off != (ProducerCeiling{}) {
		t.Errorf("Compare without a producer run: got %+v, want every figure 0 (left out of the JSON line)", off)
	}
}
