package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// newListRow is a row of the main window's lists: head (a bold title, with
// buttons beside it or not) over lines of text, all the row's width. The
// lines are one RichText, so that they sit a line apart (a label a line
// would pad each one), and a line that does not fit ends in an ellipsis.
// A list sizes every row like its template, so lines is how many a row has.
func newListRow(head fyne.CanvasObject, lines int) *fyne.Container {
	text := widget.NewRichTextWithText(strings.Repeat("\n", max(lines-1, 0)))
	text.Truncation = fyne.TextTruncateEllipsis
	// The head's padding below and the lines' padding above overlap.
	return container.New(layout.NewCustomPaddedVBoxLayout(-theme.InnerPadding()), head, text)
}

// newRowTitle is a list row's bold title, cut with an ellipsis.
func newRowTitle() *widget.Label {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// setRowLines shows lines, one a line, under a list row's head.
func setRowLines(row *fyne.Container, lines ...string) {
	text := row.Objects[1].(*widget.RichText)
	text.Segments[0].(*widget.TextSegment).Text = strings.Join(lines, "\n")
	text.Refresh()
}
