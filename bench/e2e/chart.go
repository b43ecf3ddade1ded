package main

import (
	"bytes"
	"fmt"
	"image/color"
	"runtime"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// runColors tell the runs apart in the records/s panel.
var runColors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

// chart draws the PNG: on the left records/s per contender, one bar per run
// (grouped) with the median written above; on the right each contender's median
// peak RSS.
func (rep *report) chart(cfg *config) ([]byte, error) {
	ss := rep.summaries(cfg.n)
	if len(ss) == 0 {
		return nil, fmt.Errorf("no results to draw")
	}
	var names []string
	for _, s := range ss {
		names = append(names, s.c.name)
	}

	rate := newPanel(fmt.Sprintf("click-count end to end on %s, %s clicks: records/s in each run", rep.brokerLabel, thousands(cfg.n)), "records/s", names)
	width := vg.Points(60 / float64(cfg.runs))
	var top float64
	medians := make(plotter.XYs, len(ss))
	labels := make([]string, len(ss))
	for i, s := range ss {
		highest := 0.0
		for _, r := range s.rates {
			highest = max(highest, r)
		}
		top = max(top, highest)
		// The median is written above the group's highest bar.
		medians[i] = plotter.XY{X: float64(i), Y: highest}
		labels[i] = "median " + humanize(s.rate)
	}
	for r := 0; r < cfg.runs; r++ {
		vals := make(plotter.Values, len(ss))
		for i, s := range ss {
			if r < len(s.rates) {
				vals[i] = s.rates[r]
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.Color = runColors[r%len(runColors)]
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(r)-float64(cfg.runs-1)/2)
		rate.Add(bars)
		rate.Legend.Add(fmt.Sprintf("run %d", r+1), bars)
	}
	if err := addLabels(rate, medians, labels, top); err != nil {
		return nil, err
	}
	rate.Legend.Top = true

	rss := newPanel(fmt.Sprintf("peak RSS, median (%s, %d CPUs)", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU()), "MB", names)
	vals := make(plotter.Values, len(ss))
	points := make(plotter.XYs, len(ss))
	rssLabels := make([]string, len(ss))
	top = 0
	for i, s := range ss {
		vals[i] = s.rssMB
		points[i] = plotter.XY{X: float64(i), Y: s.rssMB}
		rssLabels[i] = fmt.Sprintf("%.0f", s.rssMB)
		top = max(top, s.rssMB)
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(28))
	if err != nil {
		return nil, err
	}
	bars.Color = color.RGBA{R: 0x70, G: 0x70, B: 0x70, A: 0xff}
	bars.LineStyle.Width = 0
	rss.Add(bars)
	if err := addLabels(rss, points, rssLabels, top); err != nil {
		return nil, err
	}

	const w, h = 14 * vg.Inch, 6 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	// records/s gets 62% of the width, RSS the rest.
	split := w * 0.62
	pad := 4 * vg.Millimeter
	rate.Draw(draw.Crop(dc, pad, split-w, pad, -pad))
	rss.Draw(draw.Crop(dc, split+pad, -pad, pad, -pad))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newPanel is a bar-chart plot with the contenders along X and horizontal grid
// lines beneath the bars.
func newPanel(title, unit string, names []string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = unit
	p.Y.Min = 0
	p.Y.Tick.Marker = humanTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	p.X.Tick.Label.Rotation = 0.5
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	return p
}

// addLabels writes texts above the points and leaves headroom for them.
func addLabels(p *plot.Plot, at plotter.XYs, texts []string, top float64) error {
	lifted := make(plotter.XYs, len(at))
	for i, xy := range at {
		lifted[i] = plotter.XY{X: xy.X, Y: xy.Y + top*0.02}
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: lifted, Labels: texts})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
	}
	p.Add(l)
	p.Y.Max = top * 1.12
	return nil
}

// humanTicks are plot's default ticks labelled 250k, 1.5M and so on.
type humanTicks struct{}

func (humanTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = humanize(ticks[i].Value)
		}
	}
	return ticks
}

// humanize writes 1234567 as 1.23M and 45678 as 45.7k.
func humanize(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// thousands writes 1000000 as 1,000,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
