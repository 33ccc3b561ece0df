package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// result is one run's figures and labels, by name, in the order they were
// set.
type result struct {
	names  []string
	values map[string]float64
	texts  map[string]string
}

// set sets figure name to v.
func (r *result) set(name string, v float64) {
	if r.values == nil {
		r.values = map[string]float64{}
	}
	r.add(name)
	r.values[name] = v
}

// label sets name to the text s, such as where the events came from.
func (r *result) label(name, s string) {
	if r.texts == nil {
		r.texts = map[string]string{}
	}
	r.add(name)
	r.texts[name] = s
}

func (r *result) add(name string) {
	_, isValue := r.values[name]
	_, isText := r.texts[name]
	if !isValue && !isText {
		r.names = append(r.names, name)
	}
}

// print writes the result as one JSON object, in the order set.
func (r result) print() {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range r.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		if s, ok := r.texts[n]; ok {
			v, _ := json.Marshal(s)
			fmt.Fprintf(&b, "%s:%s", k, v)
		} else {
			fmt.Fprintf(&b, "%s:%.6g", k, r.values[n])
		}
	}
	b.WriteString("}\n")
	os.Stdout.WriteString(b.String())
}

// median is the per-figure median of rs (the lower middle for an even
// count), with the labels of the first run and "median_of_runs" set to the
// number of runs.
func median(rs []result) result {
	var m result
	for _, n := range rs[0].names {
		if s, ok := rs[0].texts[n]; ok {
			m.label(n, s)
			continue
		}
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
