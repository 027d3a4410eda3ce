package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/storage"
)

var logColumns = []struct {
	title string
	width float32
	cell  func(a storage.Attempt) string
}{
	{"Status", 80, func(a storage.Attempt) string { return string(a.Status) }},
	{"Code", 55, func(a storage.Attempt) string {
		if a.Code == 0 {
			return "–"
		}
		return fmt.Sprint(a.Code)
	}},
	{"Date", 135, func(a storage.Attempt) string { return formatDate(a.Time, time.Now()) }},
	{"Target", 120, func(a storage.Attempt) string { return a.TargetName }},
	{"Button", 175, func(a storage.Attempt) string { return fmt.Sprintf("%d %s · %s", a.Button, a.Gesture, a.DeviceName) }},
	{"Time", 70, func(a storage.Attempt) string {
		if a.Status == storage.StatusWaiting {
			return "…"
		}
		return a.Duration.Round(time.Millisecond).String()
	}},
	{"Request to", 220, func(a storage.Attempt) string { return a.Method + " " + a.URL }},
	{"Error", 260, func(a storage.Attempt) string { return a.Error }},
	{"Trigger ID", 200, func(a storage.Attempt) string { return a.ID }},
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

func newLogTable(rows *[]storage.Attempt) *widget.Table {
	t := widget.NewTable(
		func() (int, int) { return len(*rows), len(logColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			a := (*rows)[id.Row]
			l.Importance = widget.MediumImportance
			if id.Col == 0 {
				l.Importance = statusImportance(a.Status)
			}
			l.SetText(logColumns[id.Col].cell(a))
		})
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(logColumns[id.Col].title)
		}
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
