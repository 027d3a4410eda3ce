package actions

import (
	"strconv"
	"strings"
	"time"
)

// Tags are the runtime values of one attempt, substituted into a target's URL,
// query rows, headers and body where it writes <NAME>, <EID> and so on
// (bt.tn's names). Each value is escaped for where it lands and is never
// read again for tags: a value holding "<EID>" is sent as that text.
//
// The tags are:
//
//	<DATE>            Time as 2006-01-02
//	<TIME>            Time as 15:04:05
//	<DATETIME>        Time in RFC 3339 (2006-01-02T15:04:05+01:00)
//	<UNIXTIME>        Time in seconds since 1970 (a number)
//	<NAME>            Name, the button's name
//	<ID>              TargetID, the target's id
//	<DEVICEID>        DeviceID
//	<EID>             EID, the attempt's unique trigger id
//	<ETYPE>           EType: pressed, pressed-long, pressed-double, test, manual
//	<COUNTER>         Counter, presses of the button (a number)
//	<COUNTER_PRESS>   CounterPress, short presses (a number)
//	<COUNTER_LONG>    CounterLong, long presses (a number)
//	<COUNTER_DOUBLE>  CounterDouble, double presses (a number)
//	<TARGET>          Target, the target's name
//	<HOSTNAME>        Hostname, the computer's name
//	<CALLBACKURL>     CallbackURL, the async callback URL
//
// "<<" writes a literal "<", so "<<NAME>" sends the text "<NAME>". Text
// that looks like a tag but is not one ("<FOO>") is sent as written, and
// Target.Warnings reports it. Only upper-case names are tags: "<b>" in a
// text body is just text.
type Tags struct {
	Time          time.Time // the press; zero means now
	EID           string    // the attempt's unique trigger id
	EType         string    // ETypePressed, ...
	Name          string    // button name
	TargetID      string    // the target's ID
	DeviceID      string
	Target        string // target name
	Hostname      string
	CallbackURL   string // the async callback URL, when the target is async
	Counter       int64  // presses of the button, every gesture
	CounterPress  int64  // short presses
	CounterLong   int64  // long presses
	CounterDouble int64  // double presses
}

// Event types, the values of <ETYPE>.
const (
	ETypePressed       = "pressed"
	ETypePressedLong   = "pressed-long"
	ETypePressedDouble = "pressed-double"
	ETypeTest          = "test"
	ETypeManual        = "manual"
)

// tagNames lists the tags in the order the docs give them.
var tagNames = [...]string{
	"DATE", "TIME", "DATETIME", "UNIXTIME", "NAME", "ID", "DEVICEID", "EID", "ETYPE",
	"COUNTER", "COUNTER_PRESS", "COUNTER_LONG", "COUNTER_DOUBLE", "TARGET", "HOSTNAME", "CALLBACKURL",
}

// TagNames returns the names of the tags Buttonhook knows, without brackets
// ("DATE", "TIME", ...), for editors to offer.
func TagNames() []string { return append([]string(nil), tagNames[:]...) }

// numericTag reports whether a tag's value is always a JSON number, so that
// it may stand unquoted as a value in a JSON body.
func numericTag(name string) bool {
	switch name {
	case "UNIXTIME", "COUNTER", "COUNTER_PRESS", "COUNTER_LONG", "COUNTER_DOUBLE":
		return true
	}
	return false
}

// knownTag reports whether name (without brackets) is a tag.
func knownTag(name string) bool {
	var v tagValues
	_, ok := v.lookup(name)
	return ok
}

// tagValues are the formatted values of one attempt's tags.
type tagValues struct {
	date, time, datetime, unixtime                    string
	name, id, deviceID, eid, etype                    string
	counter, counterPress, counterLong, counterDouble string
	target, hostname, callbackURL                     string
}

// values formats each tag's value once for an attempt.
func (t Tags) values() tagValues {
	tm := t.Time
	if tm.IsZero() {
		tm = time.Now()
	}
	return tagValues{
		date:          tm.Format(time.DateOnly),
		time:          tm.Format(time.TimeOnly),
		datetime:      tm.Format(time.RFC3339),
		unixtime:      strconv.FormatInt(tm.Unix(), 10),
		name:          t.Name,
		id:            t.TargetID,
		deviceID:      t.DeviceID,
		eid:           t.EID,
		etype:         t.EType,
		counter:       strconv.FormatInt(t.Counter, 10),
		counterPress:  strconv.FormatInt(t.CounterPress, 10),
		counterLong:   strconv.FormatInt(t.CounterLong, 10),
		counterDouble: strconv.FormatInt(t.CounterDouble, 10),
		target:        t.Target,
		hostname:      t.Hostname,
		callbackURL:   t.CallbackURL,
	}
}

// lookup returns the value of the tag name (without brackets).
func (v *tagValues) lookup(name string) (string, bool) {
	switch name {
	case "DATE":
		return v.date, true
	case "TIME":
		return v.time, true
	case "DATETIME":
		return v.datetime, true
	case "UNIXTIME":
		return v.unixtime, true
	case "NAME":
		return v.name, true
	case "ID":
		return v.id, true
	case "DEVICEID":
		return v.deviceID, true
	case "EID":
		return v.eid, true
	case "ETYPE":
		return v.etype, true
	case "COUNTER":
		return v.counter, true
	case "COUNTER_PRESS":
		return v.counterPress, true
	case "COUNTER_LONG":
		return v.counterLong, true
	case "COUNTER_DOUBLE":
		return v.counterDouble, true
	case "TARGET":
		return v.target, true
	case "HOSTNAME":
		return v.hostname, true
	case "CALLBACKURL":
		return v.callbackURL, true
	}
	return "", false
}

// tagAt reports whether s starts with something written like a tag:
// "<", an upper-case letter, upper-case letters, digits or "_", then ">".
// It returns the name and the length of the whole tag, or n == 0.
func tagAt(s string) (name string, n int) {
	if len(s) < 3 || s[0] != '<' || s[1] < 'A' || s[1] > 'Z' {
		return "", 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == '>':
			return s[1:i], i + 1
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		default:
			return "", 0
		}
	}
	return "", 0
}

// expand replaces every known <TAG> in s with escape(value), in one pass:
// a value is never read for tags. "<<" stands for a literal "<". Unknown
// tags are left as written. The escape function is where a value's
// destination (a URL path, a header) is made safe.
func expand(s string, vals tagValues, escape func(string) string) string {
	return expandWith(s, vals, nil, escape)
}

// expandWith is expand that also passes the text around the tags through
// literal (nil: as written), for destinations where the template's own text
// needs escaping too.
func expandWith(s string, vals tagValues, literal, escape func(string) string) string {
	i := strings.IndexByte(s, '<')
	if i < 0 {
		if literal != nil {
			return literal(s)
		}
		return s
	}
	lit := func(b *strings.Builder, s string) {
		if literal != nil {
			s = literal(s)
		}
		b.WriteString(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 32)
	for i >= 0 {
		lit(&b, s[:i])
		s = s[i:]
		if name, n := tagAt(s); n > 0 {
			if v, ok := vals.lookup(name); ok {
				b.WriteString(escape(v))
			} else {
				lit(&b, s[:n])
			}
			s = s[n:]
		} else if len(s) > 1 && s[1] == '<' {
			lit(&b, "<")
			s = s[2:]
		} else {
			lit(&b, "<")
			s = s[1:]
		}
		i = strings.IndexByte(s, '<')
	}
	lit(&b, s)
	return b.String()
}

// hasTags reports whether s holds a known tag or a "<<", that is whether
// expand can change it.
func hasTags(s string) bool {
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return false
		}
		s = s[i:]
		if name, n := tagAt(s); n > 0 && knownTag(name) || len(s) > 1 && s[1] == '<' {
			return true
		}
		s = s[1:]
	}
}

func identity(v string) string { return v }

// sampleTags are harmless values for validation and examples: every value
// is a plain word, so a template that is valid with them is valid in form.
func sampleTags() Tags {
	return Tags{
		Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), EID: "e1", EType: ETypeTest,
		Name: "button", TargetID: "t1", DeviceID: "d1", Target: "target", Hostname: "host",
		CallbackURL: "http://127.0.0.1/callback/token", Counter: 1, CounterPress: 1,
	}
}

// expandSample fills tags with harmless sample values, for validation.
func expandSample(s string) string {
	return expand(s, sampleTags().values(), identity)
}
