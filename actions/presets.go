package actions

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// PresetKind names a chat service whose incoming webhooks Buttonhook knows.
type PresetKind string

// Presets.
const (
	PresetNone       PresetKind = ""
	PresetSlack      PresetKind = "slack"      // Slack incoming webhook: {"text": message}
	PresetTeams      PresetKind = "teams"      // Microsoft Teams Workflows webhook: an Adaptive Card with the message
	PresetMattermost PresetKind = "mattermost" // Mattermost incoming webhook: {"text": message, "channel": channel}
	PresetDiscord    PresetKind = "discord"    // Discord webhook: {"content": message}
)

// MaxDiscordMessage is the longest message Discord accepts, in characters.
const MaxDiscordMessage = 2000

// Preset makes a chat service's request from a message text. The message
// (and a Mattermost channel) may hold tags; their values are escaped as JSON
// text, so a message is always one JSON string. A preset sets the target's
// method (POST) and body (JSON); its URL, headers and auth stay the
// target's.
//
// The bodies, with MESSAGE the message's text:
//
//	slack       {"text":MESSAGE}
//	discord     {"content":MESSAGE}
//	mattermost  {"text":MESSAGE} or {"text":MESSAGE,"channel":CHANNEL}
//	teams       {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
//	            "contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",
//	            "type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":MESSAGE,"wrap":true}]}}]}
type Preset struct {
	Kind    PresetKind `json:"kind,omitempty"`
	Message string     `json:"message,omitempty"`
	Channel string     `json:"channel,omitempty"` // Mattermost: a channel name, or @user for a direct message
}

var mattermostChannelRE = regexp.MustCompile(`^@?[A-Za-z0-9._-]+$`)

// Label is the service's name, for messages and the UI.
func (k PresetKind) Label() string {
	switch k {
	case PresetSlack:
		return "Slack"
	case PresetTeams:
		return "Microsoft Teams"
	case PresetMattermost:
		return "Mattermost"
	case PresetDiscord:
		return "Discord"
	}
	return string(k)
}

func (p Preset) validate(add adder) {
	switch p.Kind {
	case PresetNone:
		return
	case PresetSlack, PresetTeams, PresetMattermost, PresetDiscord:
	default:
		add("preset.kind", "%q is not one of slack, teams, mattermost, discord or empty (no preset)", p.Kind)
		return
	}
	switch {
	case strings.TrimSpace(p.Message) == "":
		add("preset.message", "is required: write the text %s should show, like \"<NAME> was pressed\"", p.Kind.Label())
	case p.Kind == PresetDiscord && utf8.RuneCountInString(p.Message) > MaxDiscordMessage:
		add("preset.message", "is longer than the %d characters Discord accepts", MaxDiscordMessage)
	}
	switch {
	case p.Channel == "":
	case p.Kind != PresetMattermost:
		add("preset.channel", "only a Mattermost webhook takes a channel: %s webhooks post to the channel they were made for", p.Kind.Label())
	case !mattermostChannelRE.MatchString(expandSample(p.Channel)):
		add("preset.channel", "%q is not a channel name (like town-square) or @user", p.Channel)
	}
}

// validateURL checks the target's URL for the preset: Slack, Teams and
// Discord take webhooks on https only; a Mattermost server is often
// self-hosted, so http is allowed there.
func (p Preset) validateURL(rawURL string, add adder) {
	switch p.Kind {
	case PresetSlack, PresetTeams, PresetDiscord:
	default:
		return
	}
	if u, err := url.Parse(expandSample(rawURL)); err == nil && u.Scheme == "http" {
		add("url", "%s webhooks are https only: use the https:// URL %s gave you", p.Kind.Label(), p.Kind.Label())
	}
}

// apply returns t with its method and body made by the preset.
func (p Preset) apply(t Target) Target {
	if p.Kind == PresetNone {
		return t
	}
	t.Method = http.MethodPost
	t.Body = Body{Kind: BodyJSON, JSON: string(p.appendJSON(nil))}
	return t
}

// appendJSON appends the preset's JSON template. The message is written as
// one JSON string with its tags kept, for renderJSON to fill in.
func (p Preset) appendJSON(b []byte) []byte {
	str := func(b []byte, s string) []byte {
		b = append(b, '"')
		b = appendJSONEscaped(b, s)
		return append(b, '"')
	}
	switch p.Kind {
	case PresetSlack:
		b = append(b, `{"text":`...)
		b = str(b, p.Message)
	case PresetDiscord:
		b = append(b, `{"content":`...)
		b = str(b, p.Message)
	case PresetMattermost:
		b = append(b, `{"text":`...)
		b = str(b, p.Message)
		if p.Channel != "" {
			b = append(b, `,"channel":`...)
			b = str(b, p.Channel)
		}
	case PresetTeams:
		b = append(b, `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",`+
			`"contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",`+
			`"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":`...)
		b = str(b, p.Message)
		b = append(b, `,"wrap":true}]}}]`...)
	default:
		return b
	}
	return append(b, '}')
}
