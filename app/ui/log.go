package ui

import (
	"cmp"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// logColumn is a column of the attempt table; one with a sort order sorts
// the log when its header is tapped.
type logColumn struct {
	title string
	width float32
	sort  storage.Sort
	cell  func(a storage.Attempt) string
}

// logColumns are the attempt table's columns.
var logColumns = []logColumn{
	{"Status", 90, storage.SortStatus, func(a storage.Attempt) string { return string(a.Status) }},
	{"Code", 70, storage.SortCode, func(a storage.Attempt) string {
		if a.Code == 0 {
			return "–"
		}
		return fmt.Sprint(a.Code)
	}},
	{"Date", 145, storage.SortTime, func(a storage.Attempt) string { return formatDate(a.Time, time.Now()) }},
	{"Target", 120, storage.SortTarget, func(a storage.Attempt) string { return a.TargetName }},
	{"Button", 175, "", engine.Trigger},
	{"Time", 80, storage.SortDuration, func(a storage.Attempt) string {
		if a.Status == storage.StatusWaiting {
			return "…"
		}
		return engine.FormatDuration(a.Duration)
	}},
	{"Request to", 220, "", func(a storage.Attempt) string { return a.Method + " " + a.URL }},
	{"Error", 260, "", func(a storage.Attempt) string { return a.Error }},
	{"Trigger ID", 200, "", func(a storage.Attempt) string { return a.ID }},
}

// formatDate writes t as Blynk's log does: hh:mm:ss M D, Y, with the current
// year hidden.
func formatDate(t, now time.Time) string {
	t = t.Local()
	if t.Year() == now.Local().Year() {
		return t.Format("15:04:05 Jan 2")
	}
	return t.Format("15:04:05 Jan 2, 2006")
}

// headerTitle is a column's title with an arrow if the log is sorted by it.
func headerTitle(col int, by storage.Sort, ascending bool) string {
	c := logColumns[col]
	if c.sort != cmp.Or(by, storage.SortTime) {
		return c.title
	}
	if ascending {
		return c.title + " ↑"
	}
	return c.title + " ↓"
}

// newLogTable makes the table of rows, whose header buttons call sortBy
// with their column's order.
func newLogTable(rows *[]storage.Attempt, title func(col int) string, sortBy func(storage.Sort)) *widget.Table {
	t := widget.NewTable(
		func() (int, int) { return len(*rows), len(logColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row >= len(*rows) {
				l.SetText("")
				return
			}
			a := (*rows)[id.Row]
			l.Importance = widget.MediumImportance
			if id.Col == 0 {
				l.Importance = statusImportance(a.Status)
			}
			l.SetText(logColumns[id.Col].cell(a))
		})
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		if id.Col < 0 {
			return
		}
		b.OnTapped = nil
		if s := logColumns[id.Col].sort; s != "" {
			b.OnTapped = func() { sortBy(s) }
		}
		b.SetText(title(id.Col))
	}
	for i, c := range logColumns {
		t.SetColumnWidth(i, c.width)
	}
	return t
}

func statusImportance(s storage.Status) widget.Importance {
	switch s {
	case storage.StatusOK:
		return widget.SuccessImportance
	case storage.StatusFailed:
		return widget.DangerImportance
	default:
		return widget.WarningImportance
	}
}
