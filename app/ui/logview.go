package ui

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fstorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage"
)

// The choices of the log's filters.
const (
	allTargets  = "All targets"
	allStatuses = "All statuses"
	allTime     = "All time"
	today       = "Today"
	last7Days   = "Last 7 days"
	last30Days  = "Last 30 days"
	customRange = "Custom…"
)

// Delays before the log queries again: after typing in the search entry,
// and after an attempt that changes a filtered or re-sorted log.
const (
	typingPause  = 300 * time.Millisecond
	requeryPause = 500 * time.Millisecond
)

// logView is the Attempts panel: a filter bar, the table of one or more
// pages of the log in the chosen order, and the selected attempt's details.
// It is used on the UI goroutine only.
type logView struct {
	eng     Engine
	win     fyne.Window
	sched   *scheduler
	message func(string) // the window's status line

	targets []actions.Target // the target filter's choices, in order
	sort    storage.Sort
	asc     bool
	rows    []storage.Attempt
	next    string // cursor of the page after rows; empty at the end
	partial bool   // the last page stopped at the scan limit
	gen     int    // the current query; older results are dropped
	selCol  int    // the column of the highlighted cell

	custom     *timeRange   // the range the customRange choice applies; nil before one is applied
	lastPeriod string       // the period chosen before customRange, to go back to on cancel
	rangeEdit  *rangeDialog // the open custom range dialog, or the last one

	typing, requery debouncer

	target, status, period *widget.Select
	rangeButton            *widget.Button // shows the custom range; edits it
	rangeClear             *widget.Button
	search                 *widget.Entry
	table                  *widget.Table
	more                   *widget.Button
	note                   *widget.Label
	export                 *widget.Button
	detail                 *detailPanel
	content                *fyne.Container
}

func newLogView(e Engine, win fyne.Window, s *scheduler, message func(string)) *logView {
	v := &logView{eng: e, win: win, sched: s, message: message, typing: debouncer{s: s}, requery: debouncer{s: s}}
	v.target = widget.NewSelect([]string{allTargets}, nil)
	v.target.SetSelected(allTargets)
	v.status = widget.NewSelect([]string{allStatuses, string(storage.StatusOK), string(storage.StatusFailed), string(storage.StatusWaiting)}, nil)
	v.status.SetSelected(allStatuses)
	v.period = widget.NewSelect([]string{allTime, today, last7Days, last30Days, customRange}, nil)
	v.period.SetSelected(allTime)
	v.lastPeriod = allTime
	for _, s := range []*widget.Select{v.target, v.status} {
		s.OnChanged = func(string) { v.reload() }
	}
	v.period.OnChanged = v.periodChanged
	v.rangeButton = widget.NewButtonWithIcon("", theme.CalendarIcon(), v.editRange)
	v.rangeClear = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { v.period.SetSelected(allTime) })
	v.rangeClear.Importance = widget.LowImportance
	v.showRange()
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search URL, error, message")
	v.search.OnChanged = func(string) { v.typing.call(typingPause, v.reload) }
	v.search.OnSubmitted = func(string) { v.typing.stop(); v.reload() }

	v.table = newLogTable(&v.rows, func(col int) string { return headerTitle(col, v.sort, v.asc) }, v.sortBy)
	v.table.OnSelected = func(id widget.TableCellID) {
		v.selCol = id.Col
		if id.Row >= 0 && id.Row < len(v.rows) && v.rows[id.Row].ID != v.detail.shown {
			v.detail.show(v.rows[id.Row])
			v.content.Refresh() // lays the panel out
		}
	}
	v.detail = newDetailPanel(func() {
		v.table.UnselectAll()
		v.content.Refresh()
	})
	v.more = widget.NewButtonWithIcon("Load more", theme.MoreVerticalIcon(), v.loadMore)
	v.note = widget.NewLabel("")
	v.note.Truncation = fyne.TextTruncateEllipsis
	v.export = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), v.showExport)

	filters := container.NewBorder(nil, nil,
		container.NewHBox(v.target, v.status, v.period, v.rangeButton, v.rangeClear), nil, v.search)
	footer := container.NewBorder(nil, nil, v.more, v.export, v.note)
	v.content = container.NewBorder(filters, container.NewVBox(v.detail.content, footer), nil, nil, v.table)
	return v
}

// setTargets makes ts the target filter's choices, keeping the choice made
// if its target is still there.
func (v *logView) setTargets(ts []actions.Target) {
	v.targets = ts
	opts := []string{allTargets}
	for _, t := range ts {
		opts = append(opts, t.Name)
	}
	v.target.SetOptions(opts)
	if !slices.Contains(opts, v.target.Selected) {
		v.target.SetSelected(allTargets) // queries again
	}
}

// query is the first page of the log that the filters and order select.
func (v *logView) query() storage.Query {
	q := storage.Query{Limit: storage.DefaultLimit, Sort: v.sort, Ascending: v.asc, Text: strings.TrimSpace(v.search.Text)}
	for _, t := range v.targets {
		if t.Name == v.target.Selected {
			q.TargetID = t.ID
			break
		}
	}
	if v.status.Selected != allStatuses {
		q.Status = storage.Status(v.status.Selected)
	}
	now := time.Now()
	switch v.period.Selected {
	case today:
		q.From, q.To = storage.Today(now)
	case last7Days:
		q.From, q.To = storage.LastDays(now, 7)
	case last30Days:
		q.From, q.To = storage.LastDays(now, 30)
	case customRange:
		if v.custom != nil {
			q.From, q.To = v.custom.from, v.custom.to
		}
	}
	return q
}

// sortBy orders the log by s, or reverses the order if it is already by s.
func (v *logView) sortBy(s storage.Sort) {
	if s == cmp.Or(v.sort, storage.SortTime) {
		v.asc = !v.asc
	} else {
		v.sort, v.asc = s, false
	}
	v.table.Refresh() // the header's arrow
	v.reload()
}

// loadNow shows the first page, read on this goroutine (at start).
func (v *logView) loadNow() {
	v.gen++
	p, err := v.eng.Search(v.query())
	v.apply(p, err, false)
}

// reload shows the first page of the current query, read off the UI goroutine.
func (v *logView) reload() { v.fetch(v.query(), false) }

func (v *logView) loadMore() {
	if v.next == "" {
		return
	}
	q := v.query()
	q.Cursor = v.next
	v.fetch(q, true)
}

func (v *logView) fetch(q storage.Query, more bool) {
	v.gen++
	gen := v.gen
	v.more.Disable()
	v.sched.background(func() func() {
		p, err := v.eng.Search(q)
		return func() {
			if gen == v.gen {
				v.apply(p, err, more)
			}
		}
	})
}

func (v *logView) apply(p storage.Page, err error, more bool) {
	if err != nil {
		v.message("Cannot read the attempt log: " + err.Error())
		v.updateFooter()
		return
	}
	if more {
		v.rows = append(v.rows, p.Attempts...)
	} else {
		v.rows = p.Attempts
		v.table.ScrollToTop()
	}
	v.next, v.partial = p.Next, p.Partial
	v.table.Refresh()
	v.keepSelection()
	v.updateFooter()
}

// keepSelection keeps the table's highlight on the attempt the details
// show as rows come, go and move, and clears it while that attempt is not
// among the rows: it never marks another attempt.
func (v *logView) keepSelection() {
	i := -1
	if v.detail.shown != "" {
		i = slices.IndexFunc(v.rows, func(a storage.Attempt) bool { return a.ID == v.detail.shown })
	}
	if i < 0 {
		v.table.UnselectAll()
		return
	}
	v.table.Select(widget.TableCellID{Row: i, Col: v.selCol}) // nothing if it is there already
}

func (v *logView) updateFooter() {
	if v.next != "" {
		v.more.Enable()
	} else {
		v.more.Disable()
	}
	text := fmt.Sprintf("%d shown", len(v.rows))
	filters := v.query()
	filters.Sort, filters.Ascending = "", false // an order filters nothing out
	switch {
	case v.partial:
		text += " · searched part of the log — Load more to keep looking"
	case len(v.rows) == 0 && filters != (storage.Query{Limit: storage.DefaultLimit}):
		text = "No attempts match the filters"
	case len(v.rows) == 0:
		text = "No attempts yet"
	}
	v.note.SetText(text)
}

// attemptChanged shows a new or updated attempt. In the newest-first order
// it goes in place if it matches the filters (and out if it no longer
// does); in other orders, the log is read again shortly.
func (v *logView) attemptChanged(a storage.Attempt) {
	i := slices.IndexFunc(v.rows, func(o storage.Attempt) bool { return o.ID == a.ID })
	q := v.query()
	v.detail.update(a)
	if (q.Sort != "" && q.Sort != storage.SortTime) || q.Ascending {
		if i >= 0 {
			v.rows[i] = a // shown now; in its place after the query
		}
		if i >= 0 || q.Matches(a) {
			v.requery.call(requeryPause, v.reload)
		}
		v.table.Refresh()
		v.keepSelection()
		return
	}
	switch {
	case !q.Matches(a):
		if i >= 0 {
			v.rows = slices.Delete(v.rows, i, i+1)
		}
	case i >= 0:
		v.rows[i] = a
	case v.next == "" || (len(v.rows) > 0 && a.ID > v.rows[len(v.rows)-1].ID):
		// IDs are time-ordered: keep newest first. An attempt older than
		// every row shown comes with Load more.
		j, _ := slices.BinarySearchFunc(v.rows, a, func(o, t storage.Attempt) int { return strings.Compare(t.ID, o.ID) })
		v.rows = slices.Insert(v.rows, j, a)
	}
	v.table.Refresh()
	v.keepSelection()
	v.updateFooter()
}

func (v *logView) showExport() {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			v.message("Cannot export: " + err.Error())
			return
		}
		if wc != nil {
			v.exportCSV(wc, wc.URI().Name())
		}
	}, v.win)
	d.SetFileName("buttonhook-attempts.csv")
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{".csv"}))
	d.Show()
}

// exportCSV writes every attempt that the filters select to wc, in the
// current order, off the UI goroutine, and closes wc.
func (v *logView) exportCSV(wc io.WriteCloser, name string) {
	q := v.query()
	v.message("Exporting the attempts to " + name + "…")
	v.sched.background(func() func() {
		err := v.eng.WriteCSV(wc, q)
		if cerr := wc.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export attempts: %w", cerr)
		}
		return func() {
			if err != nil {
				v.message(fmt.Sprintf("Cannot export to %s: %v", name, err))
				return
			}
			v.message("Exported the attempts to " + name)
		}
	})
}

// scheduler is how the window waits and works off the UI goroutine.
type scheduler struct {
	// background runs work off the UI goroutine, then what it returns on it.
	background func(work func() (apply func()))
	// after runs f on the UI goroutine after d, unless stop is called first.
	after func(d time.Duration, f func()) (stop func())
}

// realScheduler crosses to the UI goroutine with fyne.Do.
func realScheduler() *scheduler {
	return &scheduler{
		background: func(work func() func()) {
			go func() { fyne.Do(work()) }() // ends when work does
		},
		after: func(d time.Duration, f func()) func() {
			t := time.AfterFunc(d, func() { fyne.Do(f) })
			return func() { t.Stop() }
		},
	}
}

// debouncer runs the last of a burst of calls once, after a pause.
type debouncer struct {
	s      *scheduler
	cancel func()
}

func (d *debouncer) call(pause time.Duration, f func()) {
	d.stop()
	d.cancel = d.s.after(pause, f)
}

func (d *debouncer) stop() {
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
}
