// Package figures prints a benchmark run's figures as one JSON line and
// takes the median of each figure over runs, and holds commit → append
// latency samples.
package figures

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
)

// Median returns, for every float64 field of the structs rs (those of
// embedded structs included), its median over rs (the mean of the two
// middle values for an even count); other fields are left zero. T must be
// a struct type.
func Median[T any](rs []T) T {
	var out T
	if len(rs) == 0 {
		return out
	}
	outs := floats(reflect.ValueOf(&out).Elem())
	vals := make([][]float64, len(outs))
	for j := range rs {
		for i, f := range floats(reflect.ValueOf(&rs[j]).Elem()) {
			vals[i] = append(vals[i], f.Float())
		}
	}
	for i, f := range outs {
		v := vals[i]
		slices.Sort(v)
		n := len(v)
		m := v[n/2]
		if n%2 == 0 {
			m = (v[n/2-1] + v[n/2]) / 2
		}
		f.SetFloat(m)
	}
	return out
}

// PrintJSON prints the struct r on one line, float64 fields (those of
// embedded structs included) rounded to 3 decimals.
func PrintJSON[T any](r T) {
	for _, f := range floats(reflect.ValueOf(&r).Elem()) {
		f.SetFloat(math.Round(f.Float()*1000) / 1000)
	}
	b, err := json.Marshal(r)
	if err != nil {
		fmt.Println(`{"error":"encode result"}`)
		return
	}
	fmt.Println(string(b))
}

// floats returns the float64 fields of the struct v, in order, going into
// embedded structs as encoding/json does.
func floats(v reflect.Value) []reflect.Value {
	var out []reflect.Value
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Float64:
			out = append(out, f)
		case f.Kind() == reflect.Struct && v.Type().Field(i).Anonymous:
			out = append(out, floats(f)...)
		}
	}
	return out
}

// Latencies are commit → append latency samples, in milliseconds.
type Latencies struct {
	ms      []int64    // sorted by Sort
	samples [][2]int64 // commit time (Unix ms) and latency, in the order added
}

// Add records a sample: a change committed at commitMs (Unix ms) that took
// latencyMs to be appended.
func (l *Latencies) Add(commitMs, latencyMs int64) {
	l.ms = append(l.ms, latencyMs)
	l.samples = append(l.samples, [2]int64{commitMs, latencyMs})
}

// Len is the number of samples.
func (l *Latencies) Len() int { return len(l.ms) }

// Sort sorts the samples for Quantile; call it once all are added.
func (l *Latencies) Sort() { slices.Sort(l.ms) }

// Quantile returns the q-quantile (nearest rank) in milliseconds, NaN
// without samples.
func (l *Latencies) Quantile(q float64) float64 {
	if len(l.ms) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(l.ms)))) - 1
	return float64(l.ms[max(i, 0)])
}

// WriteCSV writes every sample as "commit_ms,latency_ms" lines to path, in
// the order added.
func (l *Latencies) WriteCSV(path string) error {
	var b strings.Builder
	b.WriteString("commit_ms,latency_ms\n")
	for _, s := range l.samples {
		fmt.Fprintf(&b, "%d,%d\n", s[0], s[1])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write latencies: %w", err)
	}
	return nil
}

// RunFile returns path for run 1 and path.N for run N > 1, for files a
// benchmark writes per run; "" stays "".
func RunFile(path string, run int) string {
	if path == "" || run <= 1 {
		return path
	}
	return fmt.Sprintf("%s.%d", path, run)
}
