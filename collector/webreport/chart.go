package webreport

import (
	"fmt"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Chart is the new findings per day as SVG geometry: one bar per day
// that had any, on a continuous day axis, its height proportional to the
// count (the highest bar is Height).
type Chart struct {
	Width, Height, Top, Left float64
	Bars                     []Bar
	Max                      int
	From, To                 string
	// HiddenDays and HiddenCount are the earlier days left out of the
	// chart, and their findings.
	HiddenDays, HiddenCount int
	Total                   int
}

// Bar is one day.
type Bar struct {
	Day        string
	Count      int
	X, Y, W, H float64
	Label      string
}

// The chart's size in SVG user units; the SVG scales to its box.
const (
	chartWidth  = 960
	chartHeight = 180
	chartTop    = 10
	chartLeft   = 40
)

func chart(days []store.DayCount, limit int) Chart {
	c := Chart{Width: chartWidth, Height: chartHeight, Top: chartTop, Left: chartLeft}
	for _, d := range days {
		c.Total += d.Count
	}
	if len(days) > limit {
		for _, d := range days[:len(days)-limit] {
			c.HiddenDays++
			c.HiddenCount += d.Count
		}
		days = days[len(days)-limit:]
	}
	if len(days) == 0 {
		return c
	}
	for _, d := range days {
		c.Max = max(c.Max, d.Count)
	}
	first, last := days[0].Day, days[len(days)-1].Day
	span := int(last.Sub(first)/(24*time.Hour)) + 1
	step := (chartWidth - chartLeft) / float64(span)
	w := min(max(step*0.8, 1), 48) // thin bars for many days, not slabs for few
	for _, d := range days {
		i := int(d.Day.Sub(first) / (24 * time.Hour))
		h := chartHeight * float64(d.Count) / float64(c.Max)
		day := d.Day.Format("2006-01-02")
		c.Bars = append(c.Bars, Bar{Day: day, Count: d.Count, X: chartLeft + float64(i)*step + (step-w)/2, Y: chartTop + chartHeight - h, W: w, H: h,
			Label: fmt.Sprintf("%s: %d new", day, d.Count)})
	}
	c.From, c.To = first.Format("2006-01-02"), last.Format("2006-01-02")
	return c
}
