package figures

import "testing"

type run struct {
	Name string
	A, B float64
}

func TestMedian(t *testing.T) {
	got := Median([]run{{"x", 3, 1}, {"y", 1, 4}, {"z", 2, 10}})
	if got != (run{A: 2, B: 4}) {
		t.Errorf("odd count: got %+v, want A 2, B 4 and no name", got)
	}
	got = Median([]run{{"x", 3, 1}, {"y", 1, 4}})
	if got != (run{A: 2, B: 2.5}) {
		t.Errorf("even count: got %+v, want the mean of the middle two", got)
	}
}

type common struct{ A float64 }

type embedding struct {
	Name string
	common
	B float64
}

func TestMedianOfEmbeddedFields(t *testing.T) {
	got := Median([]embedding{{"x", common{3}, 1}, {"y", common{1}, 4}, {"z", common{2}, 10}})
	if got != (embedding{common: common{A: 2}, B: 4}) {
		t.Errorf("got %+v, want A 2 (embedded), B 4", got)
	}
}

func TestQuantile(t *testing.T) {
	var l Latencies
	for i := int64(100); i >= 1; i-- {
		l.Add(1000+i, i)
	}
	l.Sort()
	for q, want := range map[float64]float64{0.5: 50, 0.99: 99, 1: 100, 0: 1} {
		if got := l.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if l.Len() != 100 {
		t.Errorf("Len = %d, want 100", l.Len())
	}
}
