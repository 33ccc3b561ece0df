package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// result is one run's figures, by name, in the order they were set.
type result struct {
	names  []string
	values map[string]float64
}

func (r *result) set(name string, v float64) {
	if r.values == nil {
		r.values = map[string]float64{}
	}
	if _, ok := r.values[name]; !ok {
		r.names = append(r.names, name)
	}
	r.values[name] = v
}

// print writes the result as one JSON object, figures in order.
func (r result) print() {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range r.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		fmt.Fprintf(&b, "%s:%.6g", k, r.values[n])
	}
	b.WriteString("}\n")
	os.Stdout.WriteString(b.String())
}

// median is the per-figure median of rs (the lower middle for an even count),
// with "median" set to the number of runs.
func median(rs []result) result {
	var m result
	for _, n := range rs[0].names {
		vs := make([]float64, len(rs))
		for i, r := range rs {
			vs[i] = r.values[n]
		}
		sort.Float64s(vs)
		m.set(n, vs[(len(vs)-1)/2])
	}
	m.set("median_of_runs", float64(len(rs)))
	return m
}
