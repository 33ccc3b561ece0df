package main

import (
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// chart is a PNG the report shows.
type chart struct{ title, path string }

// writeCharts draws, from the medians (bars) and ranges (error bars) of
// res: each workload's rows/s per tool and CPU-seconds per 1M rows per
// tool, where it measures two tools or more, and the latency percentiles
// of the workloads that measure latency.
func writeCharts(dir string, res *results, defs map[string]workload) ([]chart, error) {
	var out []chart
	for _, w := range res.Workloads {
		d := defs[w.Name]
		for _, kind := range []struct {
			name, label string
			key         func(tool) string
		}{
			{"throughput", "rows/s (docs/s)", func(t tool) string { return t.RowsPerS }},
			{"cpu", "CPU-seconds per 1M rows", func(t tool) string { return t.CPUPer1M }},
		} {
			var names []string
			var values []stats
			for _, t := range d.tools {
				if s := valuesOf(w.Runs, kind.key(t)); len(s) > 0 {
					names, values = append(names, t.Name), append(values, s)
				}
			}
			if len(values) < 2 {
				continue
			}
			c := chart{title: w.Name + ": " + kind.label, path: filepath.Join(dir, w.Name+"-"+kind.name+".png")}
			if err := barChart(c, kind.label, names, [][]stats{values}, nil); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	var names []string
	series := make([][]stats, 3)
	for _, w := range res.Workloads {
		d := defs[w.Name]
		if len(d.tools) == 0 || d.tools[0].P99 == "" || len(w.Runs) == 0 {
			continue
		}
		t := d.tools[0]
		names = append(names, w.Name)
		for i, key := range []string{t.P50, t.P99, t.Max} {
			series[i] = append(series[i], valuesOf(w.Runs, key))
		}
	}
	if len(names) > 0 {
		c := chart{title: "sluice latency: commit (or produce) → Kafka append (or SSE client), p50 / p99 / max", path: filepath.Join(dir, "latency.png")}
		if err := barChart(c, "ms", names, series, []string{"p50", "p99", "max"}); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// palette colours the series of a chart.
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// barChart draws series (each a value per name) as bars of their medians,
// side by side per name, to c.path, with the ranges as error bars when
// there is one series; legend names the series.
func barChart(c chart, yLabel string, names []string, series [][]stats, legend []string) error {
	p := plot.New()
	p.Title.Text = c.title
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.Y.Tick.Marker = readableTicks{}
	width := vg.Points(min(60, 300/float64(len(names)*len(series))))
	for i, s := range series {
		r := ranges(s)
		bars, err := plotter.NewBarChart(r, width)
		if err != nil {
			return fmt.Errorf("chart %s: %w", c.path, err)
		}
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		if len(legend) > i {
			p.Legend.Add(legend[i], bars)
		}
		// Error bars stand in the middle of each name, where only a single
		// series' bars are: several series side by side get none.
		if len(series) == 1 {
			errs, err := plotter.NewYErrorBars(r)
			if err != nil {
				return fmt.Errorf("chart %s: %w", c.path, err)
			}
			p.Add(errs)
		}
	}
	p.Legend.Top = true
	p.NominalX(names...)
	return p.Save(vg.Length(max(6, 1.9*float64(len(names))))*vg.Inch, 4*vg.Inch, c.path)
}

// readableTicks are plot's default ticks labelled as the report writes
// numbers (num).
type readableTicks struct{}

func (readableTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = num(ticks[i].Value)
		}
	}
	return ticks
}

// ranges are a series' medians with their ranges: plotter.Valuer for the
// bars, XYer and YErrorer for the error bars.
type ranges []stats

func (r ranges) Len() int                    { return len(r) }
func (r ranges) Value(i int) float64         { return zeroNaN(r[i].median()) }
func (r ranges) XY(i int) (float64, float64) { return float64(i), r.Value(i) }
func (r ranges) YError(i int) (float64, float64) {
	if len(r[i]) == 0 {
		return 0, 0
	}
	return r.Value(i) - r[i].min(), r[i].max() - r.Value(i)
}

// zeroNaN is v, or 0 for NaN (a figure no run measured).
func zeroNaN(v float64) float64 {
	if v != v {
		return 0
	}
	return v
}
