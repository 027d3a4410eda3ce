package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The layouts a custom range's From and To are typed in, in local time.
const (
	rangeDate     = "2006-01-02"
	rangeDateTime = "2006-01-02 15:04"
)

// timeRange is a custom time range of the log: attempts pressed at from or
// later and before to; a zero bound is no bound. The texts are the bounds
// as typed (normalized), to edit them again.
type timeRange struct {
	from, to         time.Time
	fromText, toText string
}

// parseRange reads a custom range typed as From and To, each empty (no
// bound), a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM) in
// loc. A To date alone includes that whole day. To must be after From.
func parseRange(fromText, toText string, loc *time.Location) (timeRange, error) {
	fromText, toText = strings.TrimSpace(fromText), strings.TrimSpace(toText)
	r := timeRange{fromText: fromText, toText: toText}
	if fromText == "" && toText == "" {
		return r, errors.New("enter a From or a To date, or both (or choose All time)")
	}
	from, _, err := parseRangeTime(fromText, loc)
	if err != nil {
		return r, fmt.Errorf("the From date: %w", err)
	}
	to, dateOnly, err := parseRangeTime(toText, loc)
	if err != nil {
		return r, fmt.Errorf("the To date: %w", err)
	}
	if dateOnly {
		y, m, d := to.Date()
		to = time.Date(y, m, d+1, 0, 0, 0, 0, loc) // the end of that day
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return r, fmt.Errorf("the To date (%s) must be after the From date (%s): swap them, or pick another day", toText, fromText)
	}
	r.from, r.to = from, to
	return r, nil
}

// parseRangeTime reads one bound of a custom range, ignoring spaces around
// it; an empty s is the zero time.
func parseRangeTime(s string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, nil
	}
	if t, err := time.ParseInLocation(rangeDate, s, loc); err == nil {
		return t, true, nil
	}
	if t, err := time.ParseInLocation(rangeDateTime, s, loc); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is not a date: write YYYY-MM-DD, or YYYY-MM-DD HH:MM for a time of day (for example %s)",
		s, time.Now().In(loc).Format(rangeDateTime))
}

// label is the range as the filter bar shows it: "12 Nov – 20 Nov",
// "Since 12 Nov 09:30", "Until 20 Nov", with the year when it is not
// now's. A To at midnight shows the day before, the last day included.
func (r timeRange) label(now time.Time) string {
	short := func(t time.Time, end bool) string {
		midnight := t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
		if end && midnight {
			t = t.AddDate(0, 0, -1)
		}
		layout := "2 Jan"
		if t.Year() != now.Year() {
			layout += " 2006"
		}
		if !midnight {
			layout += " 15:04"
		}
		return t.Format(layout)
	}
	switch {
	case r.from.IsZero():
		return "Until " + short(r.to, true)
	case r.to.IsZero():
		return "Since " + short(r.from, false)
	}
	from, to := short(r.from, false), short(r.to, true)
	if from == to {
		return from // one whole day
	}
	return from + " – " + to
}

// rangeDialog asks for a custom range's From and To.
type rangeDialog struct {
	from, to      *widget.Entry
	problem       *widget.Label
	apply, cancel *widget.Button
	d             *dialog.CustomDialog
}

// newRangeDialog makes the dialog, filled with r. applied gets the range
// when the user applies a valid one; closed is called whenever the dialog
// closes, after applied.
func newRangeDialog(r *timeRange, win fyne.Window, applied func(timeRange), closed func()) *rangeDialog {
	rd := &rangeDialog{problem: widget.NewLabel("")}
	rd.problem.Importance = widget.DangerImportance
	rd.problem.Wrapping = fyne.TextWrapWord
	rd.problem.Hide()
	entry := func(text string) *widget.Entry {
		e := &widget.Entry{PlaceHolder: "YYYY-MM-DD or YYYY-MM-DD HH:MM"}
		e.ExtendBaseWidget(e)
		e.ActionItem = calendarButton(e, win) // before anything renders e
		e.Validator = func(s string) error {
			_, _, err := parseRangeTime(s, time.Local)
			return err
		}
		e.OnSubmitted = func(string) { rd.submit(applied) }
		e.SetText(text)
		return e
	}
	var fromText, toText string
	if r != nil {
		fromText, toText = r.fromText, r.toText
	}
	rd.from, rd.to = entry(fromText), entry(toText)
	hint := newHint("Local time. A date alone is the whole day: To " + time.Now().Format(rangeDate) +
		" includes that day. Leave one empty for no limit.")
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("From"), rd.from,
		widget.NewLabel("To"), rd.to)
	content := container.NewVBox(form, hint, rd.problem)
	rd.d = dialog.NewCustomWithoutButtons("Custom time range", content, win)
	rd.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), rd.d.Hide)
	rd.apply = widget.NewButtonWithIcon("Apply", theme.ConfirmIcon(), func() { rd.submit(applied) })
	rd.apply.Importance = widget.HighImportance
	rd.d.SetButtons([]fyne.CanvasObject{rd.cancel, rd.apply})
	rd.d.SetOnClosed(closed)
	rd.d.Resize(fyne.NewSize(460, rd.d.MinSize().Height))
	return rd
}

// submit applies the range typed, or says what is wrong with it and keeps
// the dialog open.
func (rd *rangeDialog) submit(applied func(timeRange)) {
	r, err := parseRange(rd.from.Text, rd.to.Text, time.Local)
	if err != nil {
		msg := err.Error()
		rd.problem.SetText(strings.ToUpper(msg[:1]) + msg[1:] + ".")
		rd.problem.Show()
		return
	}
	applied(r)
	rd.d.Hide()
}

// calendarButton is an entry's button that picks its date on a calendar,
// keeping a time of day already typed.
func calendarButton(e *widget.Entry, win fyne.Window) *widget.Button {
	b := widget.NewButtonWithIcon("", theme.CalendarIcon(), nil)
	b.Importance = widget.LowImportance
	b.OnTapped = func() {
		shown := time.Now()
		if t, _, err := parseRangeTime(e.Text, time.Local); err == nil && !t.IsZero() {
			shown = t
		}
		var pop *widget.PopUp
		cal := widget.NewCalendar(shown, func(day time.Time) {
			text := day.Format(rangeDate)
			if _, clock, ok := strings.Cut(strings.TrimSpace(e.Text), " "); ok {
				text += " " + strings.TrimSpace(clock)
			}
			e.SetText(text)
			pop.Hide()
		})
		pop = widget.NewPopUp(cal, win.Canvas())
		pop.ShowAtRelativePosition(fyne.NewPos(0, e.Size().Height), e)
	}
	return b
}

// periodChanged applies the period chosen; customRange asks for the range.
func (v *logView) periodChanged(choice string) {
	if choice == customRange {
		v.editRange()
		return
	}
	v.custom, v.lastPeriod = nil, choice
	v.showRange()
	v.reload()
}

// editRange opens the custom range dialog, filled with the range applied.
// Cancelling it keeps the period as it was.
func (v *logView) editRange() {
	v.rangeEdit = newRangeDialog(v.custom, v.win, func(r timeRange) {
		v.custom = &r
		v.showRange()
		v.reload()
	}, func() {
		if v.custom == nil && v.period.Selected == customRange {
			v.period.Selected = v.lastPeriod // quietly: the log shows that period already
			v.period.Refresh()
		}
	})
	v.rangeEdit.d.Show()
	v.win.Canvas().Focus(v.rangeEdit.from)
}

// showRange shows the custom range applied in place of the period choice,
// with a button that clears it (back to the choice, at All time), or the
// period choice alone.
func (v *logView) showRange() {
	if v.custom == nil {
		v.rangeButton.Hide()
		v.rangeClear.Hide()
		v.period.Show()
		return
	}
	if v.period.Selected != customRange {
		v.period.Selected = customRange // quietly: the range is being applied
		v.period.Refresh()
	}
	v.period.Hide()
	v.rangeButton.SetText(v.custom.label(time.Now()))
	v.rangeButton.Show()
	v.rangeClear.Show()
}
