package ui

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
)

// SecretStore keeps the secrets a user types into an editor, by name; the
// target keeps only a reference to them ("keyring:NAME"). storage/secrets'
// Keyring is one.
type SecretStore interface {
	Set(name, value string) error
	Delete(name string) error
}

// Where a secret comes from, as offered in the editor.
const (
	sourceKeyring = "OS keyring"
	sourceEnv     = "Environment variable"
)

// secretField edits one secret of a target. The value typed is never put
// in the target: on save it is written to the SecretStore under a name
// made from the target and the field (see secretName), and the target gets
// the reference. An existing keyring secret is never read back: the field
// says it is stored, and typing a value replaces it.
type secretField struct {
	field    string // the target's field, "auth.token"
	what     string // for messages, "the token"
	existing actions.SecretRef
	hasStore bool

	source *widget.RadioGroup
	value  *widget.Entry
	env    *widget.Entry
	state  *widget.Label
	box    *fyne.Container
}

func newSecretField(field, what, placeholder string, hasStore bool, changed func()) *secretField {
	s := &secretField{field: field, what: what, hasStore: hasStore}
	s.value = widget.NewPasswordEntry()
	s.value.SetPlaceHolder(placeholder)
	s.value.OnChanged = func(string) { s.showState(); changed() }
	s.env = newEntry("DOORBELL_TOKEN", changed)
	s.state = newHint("")
	s.source = widget.NewRadioGroup([]string{sourceKeyring, sourceEnv}, func(string) { s.showSource(); changed() })
	s.source.Horizontal = true
	s.source.Required = true
	s.box = container.NewVBox(s.source, s.value, s.env, s.state)
	s.set("")
	return s
}

// set shows ref: an env: reference in the environment entry, a keyring
// one as stored.
func (s *secretField) set(ref actions.SecretRef) {
	s.existing = ref
	s.value.SetText("")
	s.env.SetText("")
	if name, ok := strings.CutPrefix(string(ref), "env:"); ok {
		s.env.SetText(name)
		s.source.SetSelected(sourceEnv)
	} else if !s.hasStore && ref == "" {
		s.source.SetSelected(sourceEnv)
	} else {
		s.source.SetSelected(sourceKeyring)
	}
	s.showSource()
}

func (s *secretField) showSource() {
	if s.source.Selected == sourceEnv {
		s.value.Hide()
		s.env.Show()
	} else {
		s.env.Hide()
		s.value.Show()
	}
	s.showState()
}

// keyringName is the name of the existing keyring secret, or "".
func (s *secretField) keyringName() string {
	name, _ := strings.CutPrefix(string(s.existing), "keyring:")
	if name == string(s.existing) {
		return ""
	}
	return name
}

// invalid reports whether the existing reference names no source: it may
// be a secret pasted where a reference belongs, so it is never shown.
func (s *secretField) invalid() bool {
	return s.existing != "" && s.keyringName() == "" && !strings.HasPrefix(string(s.existing), "env:")
}

func (s *secretField) showState() {
	s.state.Importance = widget.MediumImportance
	switch {
	case s.source.Selected == sourceEnv:
		s.state.SetText("Read from this environment variable when a request is sent (for machines without a keyring). Write its name, without $.")
	case !s.hasStore:
		s.state.Importance = widget.WarningImportance
		s.state.SetText("No OS keyring is available to this window: use an environment variable.")
	case s.value.Text != "":
		s.state.SetText("Will be stored in the OS keyring when you save; the target keeps only a reference.")
	case s.invalid():
		s.state.Importance = widget.WarningImportance
		s.state.SetText("The saved reference names no keyring or environment variable (it may be a pasted secret): type " + s.what + " again to store it in the OS keyring.")
	case s.keyringName() != "":
		s.state.Importance = widget.SuccessImportance
		s.state.SetText("✓ Stored in the OS keyring as " + s.keyringName() + ". Type a new value to replace it.")
	default:
		s.state.SetText("Type " + s.what + ": it is stored in the OS keyring, never in the config.")
	}
}

// secretWrite is a value to store before a target that refers to it is saved.
type secretWrite struct {
	field, name, value string
}

// ref returns the reference the target gets, and the write it needs first
// (nil when none); problem is set when the field is incomplete. name is the
// keyring name for a new value.
func (s *secretField) ref(name string) (ref actions.SecretRef, w *secretWrite, problem string) {
	if s.source.Selected == sourceEnv {
		v := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s.env.Text), "env:"), "$")
		if v == "" {
			return "", nil, "name the environment variable that holds " + s.what
		}
		return actions.SecretRef("env:" + v), nil, ""
	}
	switch {
	case s.value.Text != "" && !s.hasStore:
		return "", nil, "no OS keyring is available: choose " + sourceEnv
	case s.value.Text != "":
		return actions.SecretRef("keyring:" + name), &secretWrite{field: s.field, name: name, value: s.value.Text}, ""
	case s.keyringName() != "":
		return s.existing, nil, ""
	}
	return "", nil, "type " + s.what + " (it is stored in the OS keyring)"
}

// secretName is the keyring name for a target's secret: the target's name
// made into one word, a key that tells apart targets of similar names (the
// target's ID, or a random one for a new target), and the field:
// "door-bell-1f2e3d4c5b6a7988.auth.token". It has no spaces, as a
// reference may not, and no control characters, as the keyring refuses.
func secretName(target, key, field string) string {
	return slug(target) + "-" + key + "." + field
}

// slug makes a target's name into one lower-case word of at most 40
// letters and digits joined by dashes.
func slug(name string) string {
	var b []rune
	for _, r := range strings.ToLower(name) {
		switch {
		case len(b) >= 40:
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b = append(b, r)
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
	}
	s := strings.Trim(string(b), "-")
	if s == "" {
		return "target"
	}
	return s
}

// newSecretKey returns a random key for the secrets of a target that has
// no ID yet.
func newSecretKey() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ownedSecret returns the keyring name of ref when it is one secretName
// made for this target's field, so that the editor may replace it in place.
// Hand-written references (perhaps shared with other targets) are never
// overwritten. (Secrets no target uses any more are deleted by the engine.)
func ownedSecret(ref actions.SecretRef, target, field string) (name string, ok bool) {
	name, ok = strings.CutPrefix(string(ref), "keyring:")
	if !ok {
		return "", false
	}
	key, ok := strings.CutPrefix(name, slug(target)+"-")
	if !ok {
		return "", false
	}
	key, ok = strings.CutSuffix(key, "."+field)
	if !ok || len(key) != 16 {
		return "", false
	}
	if _, err := hex.DecodeString(key); err != nil {
		return "", false
	}
	return name, true
}
