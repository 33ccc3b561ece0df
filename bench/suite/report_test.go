package main

import (
	"fmt"
	"testing"
)

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.5, "0.50"}, {9.876, "9.88"}, {12.34, "12.3"}, {123.4, "123"},
		{1234.5, "1,234"}, {1234567, "1,234,567"}, {-25000, "-25,000"},
	} {
		if got := num(tc.v); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestStatsOverRuns(t *testing.T) {
	runs := []map[string]any{{"rows_per_s": 3000.0}, {"rows_per_s": 1000.0, "other": "text"}, {}, {"rows_per_s": 2000.0}}
	s := valuesOf(runs, "rows_per_s")
	if got := s.String(); got != "2,000 (1,000 – 3,000)" {
		t.Errorf("three runs: %q, want the median and the range", got)
	}
	if got := s.runs(); got != "3,000, 1,000, 2,000" {
		t.Errorf("runs: %q, want the values in run order", got)
	}
	if got := valuesOf(runs[:2], "rows_per_s").median(); got != 2000 {
		t.Errorf("median of two runs = %v, want their mean", got)
	}
	if got := valuesOf(runs, "other").String(); got != "" {
		t.Errorf("a text figure: %q, want nothing", got)
	}
}

func TestErrorLineKeepsTheBenchmarksLastError(t *testing.T) {
	var e errorLine
	for _, chunk := range []string{"time=... level=INFO msg=x\nbench/postgres: drain ru", "n 2: no progress\n[2026] INFO connect\n", "partial"} {
		fmt.Fprint(&e, chunk)
	}
	if e.line != "bench/postgres: drain run 2: no progress" {
		t.Errorf("kept %q", e.line)
	}
}
