package actions

// PresetKind names a chat service whose incoming webhooks Buttonhook knows.
type PresetKind string

// Presets.
const (
	PresetNone       PresetKind = ""
	PresetSlack      PresetKind = "slack"
	PresetTeams      PresetKind = "teams"
	PresetMattermost PresetKind = "mattermost"
	PresetDiscord    PresetKind = "discord"
)

// Preset makes a chat service's request from a message text (tags allowed).
type Preset struct {
	Kind    PresetKind `json:"kind,omitempty"`
	Message string     `json:"message,omitempty"`
	Channel string     `json:"channel,omitempty"` // Mattermost: a channel or @user
}

func (p Preset) validate(add adder) {
	if p.Kind != PresetNone {
		add("preset.kind", "presets are not available yet")
	}
}

// apply returns t with its method and body made by the preset.
func (p Preset) apply(t Target) Target { return t }
