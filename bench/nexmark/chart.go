package main

import (
	"bytes"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// series are the chart's bars of each query: events per core, from the
// report's columns.
var series = []struct {
	name  string
	color color.Color
	value func(r *report, x row) float64
}{
	{"gofka in process", color.RGBA{0x1f, 0x77, 0xb4, 0xff}, func(r *report, x row) float64 { return r.inproc[x.q.name] }},
	{"gofka via broker", color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, func(r *report, x row) float64 {
		if x.gofka == nil {
			return 0
		}
		return x.gofka.perCPUSecond(r.events)
	}},
	{"Kafka Streams via broker", color.RGBA{0xd6, 0x27, 0x28, 0xff}, func(r *report, x row) float64 {
		if x.kstreams == nil {
			return 0
		}
		return x.kstreams.perCPUSecond(r.events)
	}},
	{"Flink 1.13 (published)", color.RGBA{0x94, 0x67, 0xbd, 0xff}, func(_ *report, x row) float64 { return flink[x.q.name] }},
	{"Feldera (published)", color.RGBA{0xff, 0x7f, 0x0e, 0xff}, func(_ *report, x row) float64 { return feldera[x.q.name] }},
}

// chart draws events per core of every query as grouped bars on a log scale
// (the figures span three orders of magnitude): a bar's height is log10 of its
// figure above 1,000 (gonum's LogScale cannot draw bars, which start at 0); a
// missing figure has no bar.
func (r *report) chart() ([]byte, error) {
	p := plot.New()
	p.Title.Text = "Nexmark: events per second per core (higher is better)"
	p.Y.Label.Text = "events / CPU second"
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "1K"}, {Value: 1, Label: "10K"}, {Value: 2, Label: "100K"}, {Value: 3, Label: "1M"}, {Value: 4, Label: "10M"}}
	p.Legend.Top = true
	var names []string
	for _, x := range r.rows {
		names = append(names, x.q.name)
	}
	w := vg.Points(11)
	for i, s := range series {
		vals := make(plotter.Values, len(r.rows))
		for j, x := range r.rows {
			vals[j] = math.Max(0, math.Log10(math.Max(1, s.value(r, x)))-3)
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bars.Color = s.color
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.Y.Min, p.Y.Max = 0, 4
	p.NominalX(names...)
	c := vgimg.PngCanvas{Canvas: vgimg.New(9*vg.Inch, 5*vg.Inch)}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
