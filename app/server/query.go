package server

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/buttonhook/buttonhook/storage"
)

// QueryValues encodes an attempt-log query as URL parameters.
func QueryValues(q storage.Query) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("before", q.Before)
	set("cursor", q.Cursor)
	set("target", q.TargetID)
	set("status", string(q.Status))
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339Nano))
	}
	set("q", q.Text)
	set("sort", string(q.Sort))
	if q.Ascending {
		v.Set("asc", "1")
	}
	return v
}

// ParseQuery decodes QueryValues.
func ParseQuery(v url.Values) (storage.Query, error) {
	q := storage.Query{Before: v.Get("before"), Cursor: v.Get("cursor"), TargetID: v.Get("target"),
		Status: storage.Status(v.Get("status")), Text: v.Get("q"), Sort: storage.Sort(v.Get("sort")), Ascending: v.Get("asc") == "1"}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return q, fmt.Errorf("limit: %q is not a number", l)
		}
		q.Limit = n
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, fmt.Errorf("%s: %v", p.name, err)
			}
			*p.t = t
		}
	}
	return q, nil
}
