package actions

import (
	"strconv"
	"strings"
	"time"
)

// Tags are the runtime values of one attempt, substituted into a target's URL,
// headers and body where it writes <NAME>, <EID> and so on (bt.tn's names).
type Tags struct {
	Time     time.Time
	EID      string // the attempt's unique trigger id
	EType    string // pressed, pressed-long, pressed-double, test, manual
	Name     string // button name
	DeviceID string
	Target   string // target name
	Hostname string
}

// values maps each tag name to its value.
func (t Tags) values() map[string]string {
	tm := t.Time
	if tm.IsZero() {
		tm = time.Now()
	}
	return map[string]string{
		"DATE":     tm.Format("2006-01-02"),
		"TIME":     tm.Format("15:04:05"),
		"DATETIME": tm.Format(time.RFC3339),
		"UNIXTIME": strconv.FormatInt(tm.Unix(), 10),
		"EID":      t.EID,
		"ETYPE":    t.EType,
		"NAME":     t.Name,
		"DEVICEID": t.DeviceID,
		"TARGET":   t.Target,
		"HOSTNAME": t.Hostname,
	}
}

// expand replaces every known <TAG> in s with escape(value). "<<" stands for
// a literal "<". Unknown tags are left as written.
func expand(s string, vals map[string]string, escape func(string) string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		if strings.HasPrefix(s, "<<") {
			b.WriteByte('<')
			s = s[2:]
			continue
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		if v, ok := vals[s[1:j]]; ok {
			b.WriteString(escape(v))
		} else {
			b.WriteString(s[:j+1])
		}
		s = s[j+1:]
	}
}

// expandSample fills tags with harmless sample values, for validation.
func expandSample(s string) string {
	return expand(s, Tags{EID: "e", EType: "test", Name: "n", DeviceID: "d", Target: "t", Hostname: "h"}.values(),
		func(v string) string { return v })
}
