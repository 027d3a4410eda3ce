package storage

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// checkConfig fails t unless the documents of kind are exactly want.
func checkConfig(t *testing.T, db *DB, kind string, want map[string]string) {
	t.Helper()
	got, err := db.Config(kind)
	if err != nil {
		t.Fatalf("Config(%q): %v", kind, err)
	}
	if got == nil {
		t.Errorf("Config(%q) = nil map, want non-nil", kind)
	}
	gotS := make(map[string]string, len(got))
	for id, data := range got {
		gotS[id] = string(data)
	}
	if fmt.Sprint(gotS) != fmt.Sprint(want) {
		t.Errorf("Config(%q) = %v, want %v", kind, gotS, want)
	}
}

func TestConfigPutGetDelete(t *testing.T) {
	db := openTest(t, t.TempDir())
	checkConfig(t, db, "target", map[string]string{})

	data := []byte(`{"url":"https://example.com"}`)
	if err := db.PutConfig("target", "t1", data); err != nil {
		t.Fatal(err)
	}
	data[2] = 'X' // the DB must have its own copy
	steps := []struct {
		name   string
		do     func() error
		target map[string]string
	}{
		{"put second", func() error { return db.PutConfig("target", "t/2", []byte(`[1,2]`)) },
			map[string]string{"t1": `{"url":"https://example.com"}`, "t/2": `[1,2]`}},
		{"put other kind", func() error { return db.PutConfig("binding", "t1", []byte(`"b"`)) },
			map[string]string{"t1": `{"url":"https://example.com"}`, "t/2": `[1,2]`}},
		{"replace", func() error { return db.PutConfig("target", "t1", []byte(`{"v":2}`)) },
			map[string]string{"t1": `{"v":2}`, "t/2": `[1,2]`}},
		{"delete", func() error { return db.DeleteConfig("target", "t1") },
			map[string]string{"t/2": `[1,2]`}},
		{"delete missing", func() error { return db.DeleteConfig("target", "nope") },
			map[string]string{"t/2": `[1,2]`}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		checkConfig(t, db, "target", s.target)
	}
	checkConfig(t, db, "binding", map[string]string{"t1": `"b"`})
	// A kind that is a prefix of another must not see its documents.
	checkConfig(t, db, "targe", map[string]string{})
}

func TestConfigInvalid(t *testing.T) {
	db := openTest(t, t.TempDir())
	if err := db.PutConfig("target", "keep", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		kind, id string
		data     []byte
		wantMsg  string
	}{
		{"empty kind", "", "x", []byte(`{}`), "empty config kind"},
		{"slash in kind", "a/b", "x", []byte(`{}`), "contains / or NUL"},
		{"long kind", strings.Repeat("k", 65), "x", []byte(`{}`), "longer than 64"},
		{"empty id", "target", "", []byte(`{}`), "empty config id"},
		{"NUL in id", "target", "a\x00b", []byte(`{}`), "contains NUL"},
		{"long id", "target", strings.Repeat("i", 257), []byte(`{}`), "longer than 256"},
		{"not JSON", "target", "x", []byte(`{"a":`), "not valid JSON"},
		{"nil data", "target", "x", nil, "no data"},
		{"too big", "target", "x", []byte(`"` + strings.Repeat("x", MaxValueSize) + `"`), "more than 262144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.PutConfig(tt.kind, tt.id, tt.data)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("PutConfig error = %v, want one wrapping ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "put config ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("PutConfig error = %q, want \"put config ...%s...\"", err, tt.wantMsg)
			}
			checkConfig(t, db, "target", map[string]string{"keep": `{}`})
		})
	}
	if _, err := db.Config(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Config(\"\") error = %v, want ErrInvalid", err)
	}
	if err := db.DeleteConfig("", "keep"); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeleteConfig(\"\", ...) error = %v, want ErrInvalid", err)
	}
}

func TestApplyConfig(t *testing.T) {
	db := openTest(t, t.TempDir())
	initial := []ConfigChange{
		{Kind: "target", ID: "t1", Data: []byte(`1`)},
		{Kind: "target", ID: "t2", Data: []byte(`2`)},
		{Kind: "binding", ID: "b1", Data: []byte(`"t1"`)},
	}
	if err := db.ApplyConfig(initial); err != nil {
		t.Fatal(err)
	}
	wantTargets := map[string]string{"t1": `1`, "t2": `2`}
	wantBindings := map[string]string{"b1": `"t1"`}
	checkConfig(t, db, "target", wantTargets)
	checkConfig(t, db, "binding", wantBindings)

	huge := []byte(`"` + strings.Repeat("x", MaxValueSize-10) + `"`)
	failing := []struct {
		name    string
		changes []ConfigChange
		wantMsg string
	}{
		{"empty kind mid-way", []ConfigChange{
			{Kind: "target", ID: "t1"},
			{Kind: "target", ID: "t3", Data: []byte(`3`)},
			{Kind: "", ID: "x", Data: []byte(`{}`)},
			{Kind: "binding", ID: "b1"},
		}, "change 2"},
		{"bad JSON last", []ConfigChange{
			{Kind: "target", ID: "t2", Data: []byte(`22`)},
			{Kind: "binding", ID: "b2", Data: []byte(`{`)},
		}, "change 1 (binding/b2)"},
		{"too large for one transaction", []ConfigChange{
			{Kind: "target", ID: "t1"},
			{Kind: "target", ID: "h1", Data: huge},
			{Kind: "target", ID: "h2", Data: huge},
			{Kind: "target", ID: "h3", Data: huge},
			{Kind: "target", ID: "h4", Data: huge},
			{Kind: "target", ID: "h5", Data: huge},
		}, "too large for one transaction"},
	}
	for _, tt := range failing {
		t.Run(tt.name, func(t *testing.T) {
			err := db.ApplyConfig(tt.changes)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ApplyConfig error = %v, want one wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("ApplyConfig error = %q, want it to contain %q", err, tt.wantMsg)
			}
			checkConfig(t, db, "target", wantTargets)
			checkConfig(t, db, "binding", wantBindings)
		})
	}

	// A good batch: deletes, puts, and a later change to the same document wins.
	err := db.ApplyConfig([]ConfigChange{
		{Kind: "target", ID: "t1"},
		{Kind: "target", ID: "t3", Data: []byte(`3`)},
		{Kind: "target", ID: "t2", Data: []byte(`20`)},
		{Kind: "target", ID: "t2", Data: []byte(`200`)},
		{Kind: "binding", ID: "b1"},
		{Kind: "binding", ID: "b2", Data: []byte(`"t3"`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, db, "target", map[string]string{"t2": `200`, "t3": `3`})
	checkConfig(t, db, "binding", map[string]string{"b2": `"t3"`})

	if err := db.ApplyConfig(nil); err != nil {
		t.Errorf("ApplyConfig(nil) = %v, want nil", err)
	}
}
