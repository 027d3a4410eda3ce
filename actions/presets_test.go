package actions

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestPresetsSend(t *testing.T) {
	srv, ch := capture(t)
	const message = `<NAME> was "<ETYPE>" (#<COUNTER>) <<NAME>`
	teams := func(text string) any {
		return map[string]any{
			"type": "message",
			"attachments": []any{map[string]any{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"contentUrl":  nil,
				"content": map[string]any{
					"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
					"type":    "AdaptiveCard",
					"version": "1.4",
					"body":    []any{map[string]any{"type": "TextBlock", "text": text, "wrap": true}},
				},
			}},
		}
	}
	for _, v := range hostileValues {
		tags := fixedTags()
		tags.Name = v
		text := jsonReadBack(v) + ` was "pressed-long" (#42) <NAME>`
		tests := []struct {
			preset Preset
			want   any
		}{
			{Preset{Kind: PresetSlack, Message: message}, map[string]any{"text": text}},
			{Preset{Kind: PresetDiscord, Message: message}, map[string]any{"content": text}},
			{Preset{Kind: PresetMattermost, Message: message}, map[string]any{"text": text}},
			{Preset{Kind: PresetMattermost, Message: message, Channel: "@bob"}, map[string]any{"text": text, "channel": "@bob"}},
			{Preset{Kind: PresetMattermost, Message: message, Channel: "<TARGET>"}, map[string]any{"text": text, "channel": "Lights"}},
			{Preset{Kind: PresetTeams, Message: message}, teams(text)},
		}
		for _, tt := range tests {
			// Method and body are the preset's, whatever the target says.
			tg := Target{Name: "p", Method: "GET", URL: srv.URL + "/hook", Preset: tt.preset,
				Body: Body{Kind: BodyText, Text: "ignored"}}
			got := send(t, tg, tags, ch)
			var doc any
			if err := json.Unmarshal(got.body, &doc); err != nil {
				t.Fatalf("%s %q: body %s is not JSON: %v", tt.preset.Kind, v, got.body, err)
			}
			if !reflect.DeepEqual(doc, tt.want) {
				t.Errorf("%s %q: got %#v, want %#v", tt.preset.Kind, v, doc, tt.want)
			}
			if got.method != "POST" || got.contentType != "application/json" || got.escapedPath != "/hook" {
				t.Errorf("%s: %s %s %q, want POST /hook application/json", tt.preset.Kind, got.method, got.escapedPath, got.contentType)
			}
		}
	}
}

func TestPresetJSONIsCompact(t *testing.T) {
	got := string(Preset{Kind: PresetSlack, Message: "Hi \"<NAME>\"\n"}.appendJSON(nil))
	if want := `{"text":"Hi \"<NAME>\"\n"}`; got != want {
		t.Errorf("slack template = %s, want %s", got, want)
	}
	for _, k := range []PresetKind{PresetSlack, PresetTeams, PresetMattermost, PresetDiscord} {
		doc := string(Preset{Kind: k, Message: "m", Channel: "c"}.appendJSON(nil))
		if err := checkJSONTemplate(doc); err != nil {
			t.Errorf("%s template %s: %v", k, doc, err)
		}
	}
}

func TestPresetValidate(t *testing.T) {
	tests := []struct {
		name   string
		preset Preset
		url    string
		field  string // "" for valid
		msg    string
	}{
		{"none", Preset{}, "http://h/", "", ""},
		{"slack", Preset{Kind: PresetSlack, Message: "<NAME>"}, "https://hooks.slack.com/services/T/B/x", "", ""},
		{"mattermost over http", Preset{Kind: PresetMattermost, Message: "m", Channel: "town-square"}, "http://chat.lan/hooks/x", "", ""},
		{"mattermost user", Preset{Kind: PresetMattermost, Message: "m", Channel: "@bob.smith"}, "https://chat/hooks/x", "", ""},
		{"unknown kind", Preset{Kind: "telegram", Message: "m"}, "https://h/", "preset.kind", "is not one of"},
		{"no message", Preset{Kind: PresetTeams, Message: "  "}, "https://h/", "preset.message", "is required"},
		{"long discord message", Preset{Kind: PresetDiscord, Message: strings.Repeat("é", 2001)}, "https://h/", "preset.message", "2000"},
		{"channel on slack", Preset{Kind: PresetSlack, Message: "m", Channel: "#x"}, "https://h/", "preset.channel", "only a Mattermost"},
		{"bad channel", Preset{Kind: PresetMattermost, Message: "m", Channel: "town square"}, "https://h/", "preset.channel", "not a channel"},
		{"slack over http", Preset{Kind: PresetSlack, Message: "m"}, "http://hooks.slack.com/x", "url", "Slack webhooks are https only"},
		{"teams over http", Preset{Kind: PresetTeams, Message: "m"}, "http://x.logic.azure.com/x", "url", "Microsoft Teams webhooks are https only"},
		{"discord over http", Preset{Kind: PresetDiscord, Message: "m"}, "http://discord.com/api/webhooks/1/x", "url", "https only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []FieldError
			add := func(field, format string, args ...any) {
				errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
			}
			tt.preset.validate(add)
			tt.preset.validateURL(tt.url, add)
			if tt.field == "" {
				if len(errs) > 0 {
					t.Errorf("errors %v, want none", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tt.field || !strings.Contains(errs[0].Msg, tt.msg) {
				t.Errorf("errors %v, want one for %s: ...%s...", errs, tt.field, tt.msg)
			}
		})
	}
	// Through Target.Validate.
	tg := Target{Name: "p", Method: "POST", URL: "https://hooks.slack.com/x", Preset: Preset{Kind: PresetSlack}}
	if err := tg.Validate(); err == nil || !strings.Contains(err.Error(), "preset.message: is required") {
		t.Errorf("Validate() = %v, want preset.message is required", err)
	}
}
