package plots

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/claimrisk/claimrisk/shared/metrics"
)

var (
	lineColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	diagColor = color.Gray{Y: 0x99}
)

func render(p *plot.Plot) ([]byte, error) {
	w, err := p.WriterTo(5*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return nil, fmt.Errorf("plots: render: %w", err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: render: %w", err)
	}
	return buf.Bytes(), nil
}

func diagonal(p *plot.Plot, max float64) error {
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: max, Y: max}})
	if err != nil {
		return err
	}
	l.Color = diagColor
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(l)
	return nil
}

// thin keeps at most n points of a curve, always the first and last.
func thin(x, y []float64, n int) plotter.XYs {
	step := max(1, len(x)/n)
	var xy plotter.XYs
	for i := 0; i < len(x); i += step {
		xy = append(xy, plotter.XY{X: x[i], Y: y[i]})
	}
	if last := len(x) - 1; last >= 0 && (last%step != 0) {
		xy = append(xy, plotter.XY{X: x[last], Y: y[last]})
	}
	return xy
}

func curve(title, xLabel, yLabel string, x, y []float64, legend string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	if err := diagonal(p, 1); err != nil {
		return nil, err
	}
	l, err := plotter.NewLine(thin(x, y, 400))
	if err != nil {
		return nil, fmt.Errorf("plots: %s: %w", title, err)
	}
	l.Color, l.Width = lineColor, vg.Points(2)
	p.Add(l)
	p.Legend.Add(legend, l)
	p.Legend.Top, p.Legend.Left = false, false
	return render(p)
}

// ROC renders the ROC curve with its AUC in the legend.
func ROC(title string, fpr, tpr []float64, auc float64) ([]byte, error) {
	return curve(title, "false positive rate", "true positive rate", fpr, tpr, fmt.Sprintf("AUC %.3f", auc))
}

// Lorenz renders the concentration curve with its Gini in the legend.
func Lorenz(title string, policies, claims []float64, gini float64) ([]byte, error) {
	return curve(title, "share of policies, riskiest first", "share of claims", policies, claims, fmt.Sprintf("Gini %.3f", gini))
}

// Calibration renders observed claim rate against mean prediction by bin.
func Calibration(title string, bins []metrics.Bin) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "mean predicted probability", "observed claim rate"
	top := 0.0
	pts := make(plotter.XYs, len(bins))
	for i, b := range bins {
		pts[i] = plotter.XY{X: b.MeanPredicted, Y: b.ObservedRate}
		top = max(top, b.MeanPredicted, b.ObservedRate)
	}
	top = top * 1.1
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, top, 0, top
	if err := diagonal(p, top); err != nil {
		return nil, err
	}
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, fmt.Errorf("plots: %s: %w", title, err)
	}
	l.Color, s.Color = lineColor, lineColor
	p.Add(l, s)
	p.Legend.Add("deciles", l, s)
	p.Legend.Top, p.Legend.Left = true, true
	return render(p)
}

// Performance renders a model's ROC AUC window by window: the estimate made
// from the predictions alone with its band, the realised AUC where the
// outcomes have arrived, and the validation AUC as a reference line. NaN
// marks a missing value.
func Performance(title string, estimated, lower, upper, realised []float64, validation float64) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "window", "ROC AUC"
	series := func(ys []float64) plotter.XYs {
		var xy plotter.XYs
		for i, y := range ys {
			if y == y { // not NaN
				xy = append(xy, plotter.XY{X: float64(i + 1), Y: y})
			}
		}
		return xy
	}
	add := func(legend string, ys []float64, c color.Color, dashed, points bool) error {
		xy := series(ys)
		if len(xy) == 0 {
			return nil
		}
		if points {
			s, err := plotter.NewScatter(xy)
			if err != nil {
				return err
			}
			s.Color = c
			p.Add(s)
			p.Legend.Add(legend, s)
			return nil
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color = c
		if dashed {
			l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		}
		p.Add(l)
		if legend != "" {
			p.Legend.Add(legend, l)
		}
		return nil
	}
	ref := make([]float64, len(estimated))
	for i := range ref {
		ref[i] = validation
	}
	realColor := color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	for _, err := range []error{
		add("validation AUC", ref, diagColor, true, false),
		add("estimated (CBPE)", estimated, lineColor, false, false),
		add("band", lower, lineColor, true, false),
		add("", upper, lineColor, true, false),
		add("realised", realised, realColor, false, true),
	} {
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %w", title, err)
		}
	}
	p.Legend.Top, p.Legend.Left = false, true
	return render(p)
}
