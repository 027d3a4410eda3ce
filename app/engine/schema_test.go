package engine_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/serial/firmata"
	"github.com/buttonhook/buttonhook/storage"
)

// schemaFile is the JSON Schema of the import/export file (docs/config.md).
const schemaFile = "../../docs/config.schema.json"

// loadSchema compiles docs/config.schema.json, asserting formats (the
// exported created/updated must be date-times), and returns it with its
// plain decoded tree.
func loadSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	return sch, raw
}

// validateDoc validates a JSON document against the schema.
func validateDoc(sch *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// newSchemaEngine returns an engine over a real Badger store in a temporary
// directory.
func newSchemaEngine(t *testing.T) *engine.Engine {
	t.Helper()
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e, err := engine.New(engine.Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// decodeLikeImport reads a file as `buttonhook targets import` does
// (readConfig in app/cli): unknown fields refused, one document, an absent
// version meaning the current one.
func decodeLikeImport(data []byte) (engine.Config, error) {
	var cfg engine.Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, err
	}
	if dec.More() {
		return cfg, errors.New("more than one JSON document")
	}
	if cfg.Version == 0 {
		cfg.Version = engine.ConfigVersion
	}
	return cfg, nil
}

// importJSON imports a file's bytes as `buttonhook targets import` does.
func importJSON(e *engine.Engine, data []byte) error {
	cfg, err := decodeLikeImport(data)
	if err != nil {
		return err
	}
	return e.Import(cfg)
}

// exportJSON writes the engine's config as `buttonhook targets export` does.
func exportJSON(t *testing.T, e *engine.Engine) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e.Export()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// selfSignedCert returns a fresh self-signed certificate, DER and PEM.
func selfSignedCert(t *testing.T) (der []byte, pemText string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "buttonhook test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// fullConfig returns targets that together set every field of
// actions.Target (every method, auth kind, body kind, preset and TLS
// policy), bindings with every gesture, and serial ports.
func fullConfig(t *testing.T) engine.Config {
	t.Helper()
	der, caPEM := selfSignedCert(t)
	upload := filepath.Join(t.TempDir(), "snapshot.jpg")
	return engine.Config{
		Version: engine.ConfigVersion,
		Targets: []actions.Target{
			{
				Name: "Basic JSON", Enabled: true, Method: "POST",
				URL:     "https://example.com/hook/<NAME>?source=buttonhook",
				Query:   []actions.KV{{Key: "event", Value: "<ETYPE>"}},
				Headers: []actions.KV{{Key: "X-Source", Value: "buttonhook <HOSTNAME>"}},
				Body:    actions.Body{Kind: actions.BodyJSON, JSON: `{"event": "<ETYPE>", "n": <COUNTER>}`},
				Auth:    actions.Auth{Kind: actions.AuthBasic, Username: "door", Password: "keyring:door-password"},
				TLS:     actions.TLS{PinSHA256: actions.Fingerprint(der)},
				Timeout: 30, Follow: true,
				Success: actions.SuccessRule{StatusMin: 200, StatusMax: 204, JSONPointer: "/ok", Equals: "true", Regexp: `"ok"`},
				Async:   actions.Async{Enabled: true, Timeout: 300},
				Retry:   actions.Retry{MaxTries: 3},
				Signing: actions.Signing{Secret: "env:WEBHOOK_SECRET"},
				Dynamic: actions.Dynamic{Enabled: true, Hosts: []string{"example.com", "*.example.com"}},
			},
			{
				Name: "Digest form", Enabled: true, Method: "PUT", URL: "https://example.com/form",
				Body: actions.Body{Kind: actions.BodyForm, Form: []actions.KV{{Key: "who", Value: "<NAME>"}}},
				Auth: actions.Auth{Kind: actions.AuthDigest, Username: "door", Password: "env:DIGEST_PASSWORD"},
				TLS:  actions.TLS{CAPEM: caPEM},
			},
			{
				Name: "Bearer multipart", Enabled: true, Method: "PATCH", URL: "https://example.com/upload",
				Body: actions.Body{Kind: actions.BodyMultipart, Form: []actions.KV{{Key: "note", Value: "hi"}, {Key: "snap", Value: actions.FilePrefix + upload}}},
				Auth: actions.Auth{Kind: actions.AuthBearer, Token: "keyring:upload-token"},
				TLS:  actions.TLS{Insecure: true},
			},
			{
				Name: "API key raw", Enabled: true, Method: "DELETE", URL: "https://example.com/xml",
				Body: actions.Body{Kind: actions.BodyRaw, Text: "<press><who><NAME></who></press>", ContentType: "application/xml"},
				Auth: actions.Auth{Kind: actions.AuthAPIKey, Header: "X-Token", Key: "env:API_KEY"},
			},
			{
				Name: "OAuth text", Enabled: true, Method: "POST", URL: "https://example.com/text",
				Body: actions.Body{Kind: actions.BodyText, Text: "pressed <NAME>"},
				Auth: actions.Auth{Kind: actions.AuthOAuth2, TokenURL: "https://auth.example.com/token", ClientID: "buttonhook",
					ClientSecret: "keyring:oauth-secret", Scopes: []string{"hooks.write", "read"}},
			},
			{Name: "Plain GET", Method: "GET", URL: "http://192.168.1.20/relay?on=1"},
			// A dynamic target waits for the URL the REST API sets.
			{Name: "Dynamic", Enabled: true, Method: "PUT", Dynamic: actions.Dynamic{Enabled: true}},
			{Name: "Head check", Enabled: true, Method: "HEAD", URL: "http://example.com/alive"},
			// A preset sends POST: a file written by hand may leave the method out.
			{Name: "Slack", Enabled: true, URL: "https://hooks.slack.com/services/T0/B0/X",
				Preset: actions.Preset{Kind: actions.PresetSlack, Message: "<NAME> was pressed"}},
			{Name: "Teams", Enabled: true, Method: "POST", URL: "https://example.webhook.office.com/x",
				Preset: actions.Preset{Kind: actions.PresetTeams, Message: "<NAME> at <TIME>"}},
			{Name: "Mattermost", Enabled: true, Method: "POST", URL: "http://chat.lan/hooks/x",
				Preset: actions.Preset{Kind: actions.PresetMattermost, Message: "door", Channel: "town-square"}},
			{Name: "Discord", Enabled: true, Method: "POST", URL: "https://discord.com/api/webhooks/1/x",
				Preset: actions.Preset{Kind: actions.PresetDiscord, Message: "ding"}},
		},
		Bindings: []engine.Binding{
			{Device: "serial:SIM-3F2A", Button: 1, Gesture: device.Press, Target: "Basic JSON"},
			{Device: "serial:SIM-3F2A", Button: 2, Gesture: device.LongPress, Target: "Slack"},
			{Button: 64, Gesture: device.DoublePress, Target: "Plain GET"},
		},
		SerialPorts: []string{"/dev/ttyACM0", "/dev/ttyUSB1"},
		Devices: &engine.Devices{
			BH1: []string{"/dev/ttyACM1"},
			Firmata: []serial.FirmataOptions{{
				Port: "/dev/ttyACM2", Baud: 115200, DebounceMS: 30,
				Buttons: []serial.FirmataButton{
					{Pin: 2, LEDs: []serial.FirmataLED{{Pin: 9, Color: device.Red, ActiveLow: true}, {Pin: 10, Color: device.Green, ActiveLow: true}}},
					{Pin: 3, LEDs: []serial.FirmataLED{{Pin: 13}}},
				},
			}},
			Lines: []serial.LinesOptions{{
				Port: "/dev/ttyUSB2", Baud: 115200, Name: "barcode reader", LineEnding: "crlf",
				Patterns: []serial.LinePattern{
					{Regexp: "^DOWN ([0-9])$", Button: 1, Edge: "down"},
					{Regexp: "^UP ([0-9])$", Button: 1, Edge: "up"},
					{Regexp: "^DOUBLE$", Button: 2, Gesture: "double"},
				},
				LED: map[string]string{"off": "LED {button} OFF", "on": "LED {button} {color}", "flash:green": "OK {ms}"},
			}},
			USB:      &engine.USBSettings{Enabled: ptr(false)},
			Debounce: []engine.Debounce{{Device: "firmata:/dev/ttyACM2", MS: ptr(40)}, {Device: "serial:SIM-3F2A", Button: 2, MS: ptr(0)}},
			Pairs:    []engine.Pair{{ButtonDevice: "usb:1d34:000d:", Button: 1, LightDevice: "usb:27b8:01ed:2000ABCD", LightButton: 1}},
		},
		Log: &engine.LogSection{KeepDays: ptr(30), MaxAttempts: ptr[int64](100_000)},
		Server: &engine.ServerSection{Port: ptr(9000), LAN: ptr(true), PublicURL: ptr("https://buttons.example.com"),
			HTTPS: ptr(true), Inspector: ptr(true), InspectorKeep: ptr(200)},
	}
}

func ptr[T any](v T) *T { return &v }

func TestSchemaAcceptsExportOfEveryField(t *testing.T) {
	sch, raw := loadSchema(t)
	e := newSchemaEngine(t)
	if err := e.Import(fullConfig(t)); err != nil {
		t.Fatalf("import the full config: %v", err)
	}
	exported := e.Export()

	// The fixture must really set every field, so that the schema is
	// checked against all of them: a new field fails here until a target
	// sets it.
	seen := map[string]bool{}
	for _, tg := range exported.Targets {
		markSet(reflect.ValueOf(tg), "", seen)
	}
	for _, b := range exported.Bindings {
		markSet(reflect.ValueOf(b), "bindings.", seen)
	}
	var missing []string
	for _, p := range leafPaths(reflect.TypeFor[actions.Target](), "") {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	for _, p := range leafPaths(reflect.TypeFor[engine.Binding](), "bindings.") {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	if exported.Log != nil {
		markSet(reflect.ValueOf(*exported.Log), "log.", seen)
	}
	if exported.Devices != nil {
		markSet(reflect.ValueOf(*exported.Devices), "devices.", seen)
	}
	for _, p := range leafPaths(reflect.TypeFor[engine.Devices](), "devices.") {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	for _, p := range leafPaths(reflect.TypeFor[engine.LogSection](), "log.") {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	if exported.Server != nil {
		markSet(reflect.ValueOf(*exported.Server), "server.", seen)
	}
	for _, p := range leafPaths(reflect.TypeFor[engine.ServerSection](), "server.") {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no exported target, binding, device or setting sets %s: extend fullConfig", strings.Join(missing, ", "))
	}
	if got := e.Settings().Log; got.KeepDays != 30 || got.MaxAttempts != 100_000 {
		t.Errorf("imported log settings = %+v, want 30 days and 100000 attempts", got)
	}
	if got := e.Settings().Server; got.Port != 9000 || !got.Inspector || got.InspectorKeep != 200 {
		t.Errorf("imported server settings = %+v, want port 9000, the inspector on, keeping 200", got)
	}
	if exported.SerialPorts != nil {
		t.Errorf("the export has serial_ports %q: it writes devices.bh1 instead", exported.SerialPorts)
	}
	if got, want := exported.Devices.BH1, []string{"/dev/ttyACM0", "/dev/ttyUSB1", "/dev/ttyACM1"}; !slices.Equal(got, want) {
		t.Errorf("exported devices.bh1 = %q, want the serial_ports and devices.bh1 imported, %q", got, want)
	}

	// Every kind the schema lists is exported, and the schema's lists are
	// the code's.
	var methods, auths, bodies, presets, gestures []string
	for _, tg := range exported.Targets {
		if tg.Method != "" {
			methods = append(methods, tg.Method)
		}
		auths = append(auths, string(tg.Auth.Kind))
		bodies = append(bodies, string(tg.Body.Kind))
		presets = append(presets, string(tg.Preset.Kind))
	}
	for _, b := range exported.Bindings {
		gestures = append(gestures, string(b.Gesture))
	}
	var codeAuths []string
	for _, k := range actions.AuthKinds {
		codeAuths = append(codeAuths, string(k))
	}
	for _, c := range []struct {
		what, enum string
		want       []string
	}{
		{"methods (actions.Methods)", "$defs/Target/allOf/0/else/properties/method/enum", actions.Methods},
		{"methods (exported)", "$defs/Target/allOf/0/else/properties/method/enum", methods},
		{"auth kinds (actions.AuthKinds)", "$defs/Auth/properties/kind/enum", codeAuths},
		{"auth kinds (exported)", "$defs/Auth/properties/kind/enum", auths},
		{"body kinds (exported)", "$defs/BodyRules/properties/kind/enum", bodies},
		{"preset kinds (exported)", "$defs/Preset/properties/kind/enum", presets},
		{"gestures (exported)", "$defs/Binding/properties/gesture/enum", gestures},
	} {
		if got, want := stringSet(schemaAt(t, raw, c.enum)), stringSet(c.want); !slices.Equal(got, want) {
			t.Errorf("%s: schema enum %s = %q, want %q", c.what, c.enum, got, want)
		}
	}
	for _, g := range schemaAt(t, raw, "$defs/Binding/properties/gesture/enum").([]any) {
		if !device.Gesture(g.(string)).Valid() {
			t.Errorf("schema gesture %q is not a valid device.Gesture", g)
		}
	}

	// The schema's limits are the code's.
	for _, c := range []struct {
		path string
		want int
	}{
		{"properties/version/maximum", engine.ConfigVersion},
		{"$defs/Target/properties/name/maxLength", actions.MaxNameLen},
		{"$defs/Target/properties/url/maxLength", actions.MaxURLLen},
		{"$defs/Header/properties/key/maxLength", actions.MaxHeaderKeyLen},
		{"$defs/Auth/allOf/3/then/properties/header/maxLength", actions.MaxHeaderKeyLen},
		{"$defs/Auth/properties/token_url/maxLength", actions.MaxURLLen},
		{"$defs/Target/properties/timeout/maximum", int(actions.MaxTimeout / time.Second)},
		{"$defs/Retry/properties/max_tries/maximum", actions.MaxTries},
		{"$defs/Preset/allOf/1/then/properties/message/maxLength", actions.MaxDiscordMessage},
		{"$defs/Log/properties/keep_days/maximum", engine.MaxKeepDays},
		{"$defs/Log/properties/keep_days/default", engine.DefaultSettings().Log.KeepDays},
		{"$defs/Log/properties/max_attempts/maximum", engine.MaxLogAttempts},
		{"$defs/Log/properties/max_attempts/default", int(engine.DefaultSettings().Log.MaxAttempts)},
		{"$defs/Server/properties/port/default", engine.DefaultServerPort},
		{"$defs/Server/properties/inspector_keep/default", engine.DefaultInspectorKeep},
		{"$defs/Server/properties/inspector_keep/maximum", engine.MaxInspectorKeep},
		{"$defs/Dynamic/properties/hosts/maxItems", actions.MaxDynamicHosts},
		{"properties/version/default", engine.ConfigVersion},
		{"$defs/Debounce/properties/ms/maximum", engine.MaxDebounceMS},
		{"$defs/Debounce/properties/button/maximum", engine.MaxButton},
		{"$defs/Pair/properties/button/maximum", engine.MaxButton},
		{"$defs/Pair/properties/light_button/maximum", engine.MaxButton},
		{"$defs/Binding/properties/button/maximum", engine.MaxButton},
		{"$defs/Firmata/properties/buttons/maxItems", serial.MaxButtons},
		{"$defs/Firmata/properties/baud/default", serial.FirmataBaudRate},
		{"$defs/FirmataButton/properties/pin/maximum", firmata.MaxPin},
		{"$defs/FirmataLED/properties/pin/maximum", firmata.MaxPin},
		{"$defs/LinePattern/properties/button/maximum", serial.MaxButtons},
		{"$defs/Lines/properties/baud/default", serial.LinesBaudRate},
	} {
		if got, ok := schemaAt(t, raw, c.path).(float64); !ok || int(got) != c.want {
			t.Errorf("schema %s = %v, want %d", c.path, schemaAt(t, raw, c.path), c.want)
		}
	}

	data := exportJSON(t, e)
	if err := validateDoc(sch, data); err != nil {
		t.Fatalf("the export does not pass the schema: %v\n%s", err, data)
	}
	// What the schema accepts, import takes back.
	if err := importJSON(newSchemaEngine(t), data); err != nil {
		t.Fatalf("import the export into an empty engine: %v", err)
	}
}

// bad are documents that both the schema and `buttonhook targets import`
// refuse; where says where the schema finds the problem (a JSON pointer),
// codeErr what the import's error says.
var badDocs = []struct {
	name, doc, where, codeErr string
}{
	{"unknown top-level field", `{"version": 1, "targetz": []}`, "", `unknown field "targetz"`},
	{"unknown target field", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "colour": "red"}]}`, "/targets/0", `unknown field "colour"`},
	{"unknown auth field", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "bearer", "token": "env:T", "tokn": "x"}}]}`, "/targets/0/auth", `unknown field "tokn"`},
	{"unknown binding field", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example"}], "bindings": [{"button": 1, "target": "Door", "colour": "red"}]}`, "/bindings/0", `unknown field "colour"`},
	{"bad method", `{"targets": [{"name": "Door", "method": "FETCH", "url": "https://x.example"}]}`, "/targets/0/method", "targets[0].method"},
	{"no method", `{"targets": [{"name": "Door", "url": "https://x.example"}]}`, "/targets/0", "targets[0].method"},
	{"bare secret", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "auth": {"kind": "bearer", "token": "hunter2"}}]}`, "/targets/0/auth/token", "targets[0].auth.token"},
	{"secret ref without a name", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "auth": {"kind": "basic", "username": "u", "password": "keyring:"}}]}`, "/targets/0/auth/password", "targets[0].auth.password"},
	{"bare signing secret", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "signing": {"secret": "whsec_abc"}}]}`, "/targets/0/signing/secret", "targets[0].signing.secret"},
	{"bearer without token", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "auth": {"kind": "bearer"}}]}`, "/targets/0/auth", "targets[0].auth.token"},
	{"button 0", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example"}], "bindings": [{"button": 0, "target": "Door"}]}`, "/bindings/0/button", "bindings[0].button"},
	{"button 65", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example"}], "bindings": [{"button": 65, "target": "Door"}]}`, "/bindings/0/button", "bindings[0].button"},
	{"gesture triple", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example"}], "bindings": [{"button": 1, "gesture": "triple", "target": "Door"}]}`, "/bindings/0/gesture", "bindings[0].gesture"},
	{"version 4", `{"version": 4, "targets": []}`, "/version", "version: 4 is newer"},
	{"timeout 500", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "timeout": 500}]}`, "/targets/0/timeout", "targets[0].timeout"},
	{"empty name", `{"targets": [{"name": "  ", "method": "GET", "url": "https://x.example"}]}`, "/targets/0/name", "targets[0].name"},
	{"name of 81 letters", `{"targets": [{"name": "` + strings.Repeat("ä", 81) + `", "method": "GET", "url": "https://x.example"}]}`, "/targets/0/name", "targets[0].name"},
	{"name with a slash", `{"targets": [{"name": "Door/1", "method": "GET", "url": "https://x.example"}]}`, "/targets/0/name", "targets[0].name"},
	{"ftp url", `{"targets": [{"name": "Door", "method": "GET", "url": "ftp://x.example"}]}`, "/targets/0/url", "targets[0].url"},
	{"url too long", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example/` + strings.Repeat("a", 2048) + `"}]}`, "/targets/0/url", "targets[0].url"},
	{"header key with a space", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "headers": [{"key": "X Source", "value": "v"}]}]}`, "/targets/0/headers/0/key", "targets[0].headers[0].key"},
	{"header key of 101", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "headers": [{"key": "` + strings.Repeat("x", 101) + `", "value": "v"}]}]}`, "/targets/0/headers/0/key", "targets[0].headers[0].key"},
	{"header value with a line break", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "headers": [{"key": "X-A", "value": "a\r\nB: c"}]}]}`, "/targets/0/headers/0/value", "targets[0].headers[0].value"},
	{"query row without key", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "query": [{"value": "v"}]}]}`, "/targets/0/query/0", "targets[0].query[0].key"},
	{"body kind xml", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "body": {"kind": "xml"}}]}`, "/targets/0/body/kind", "targets[0].body.kind"},
	{"json body left empty", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "body": {"kind": "json", "json": " "}}]}`, "/targets/0/body/json", "targets[0].body.json"},
	{"raw body without type", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "body": {"kind": "raw", "text": "x"}}]}`, "/targets/0/body", "targets[0].body.content_type"},
	{"form row without key", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "body": {"kind": "form", "form": [{"key": "", "value": "v"}]}}]}`, "/targets/0/body/form/0/key", "targets[0].body.form[0].key"},
	{"GET with a body", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "body": {"kind": "text", "text": "hi"}}]}`, "/targets/0/body/kind", "targets[0].body.kind"},
	{"preset telegram", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example", "preset": {"kind": "telegram", "message": "m"}}]}`, "/targets/0/preset/kind", "targets[0].preset.kind"},
	{"preset without message", `{"targets": [{"name": "Door", "url": "https://x.example", "preset": {"kind": "slack"}}]}`, "/targets/0/preset", "targets[0].preset.message"},
	{"slack over http", `{"targets": [{"name": "Door", "url": "http://x.example", "preset": {"kind": "slack", "message": "m"}}]}`, "/targets/0/url", "targets[0].url"},
	{"discord message too long", `{"targets": [{"name": "Door", "url": "https://x.example", "preset": {"kind": "discord", "message": "` + strings.Repeat("é", 2001) + `"}}]}`, "/targets/0/preset/message", "targets[0].preset.message"},
	{"channel for slack", `{"targets": [{"name": "Door", "url": "https://x.example", "preset": {"kind": "slack", "message": "m", "channel": "general"}}]}`, "/targets/0/preset/channel", "targets[0].preset.channel"},
	{"auth ntlm", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "ntlm"}}]}`, "/targets/0/auth/kind", "targets[0].auth.kind"},
	{"basic user with a colon", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "basic", "username": "a:b", "password": "env:P"}}]}`, "/targets/0/auth/username", "targets[0].auth.username"},
	{"api key header with a space", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "apikey", "header": "X Key", "key": "env:K"}}]}`, "/targets/0/auth/header", "targets[0].auth.header"},
	{"oauth token url over http", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "oauth2", "token_url": "http://auth.example/token", "client_id": "c", "client_secret": "env:S"}}]}`, "/targets/0/auth/token_url", "targets[0].auth.token_url"},
	{"oauth token url with user", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "oauth2", "token_url": "https://u:p@auth.example/token", "client_id": "c", "client_secret": "env:S"}}]}`, "/targets/0/auth/token_url", "targets[0].auth.token_url"},
	{"oauth scope with a space", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "oauth2", "token_url": "https://auth.example/token", "client_id": "c", "client_secret": "env:S", "scopes": ["a b"]}}]}`, "/targets/0/auth/scopes/0", "targets[0].auth.scopes[0]"},
	{"pin and insecure", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "tls": {"pin_sha256": "` + strings.Repeat("ab", 32) + `", "insecure": true}}]}`, "/targets/0/tls", "targets[0].tls"},
	{"short pin", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "tls": {"pin_sha256": "AB:CD"}}]}`, "/targets/0/tls/pin_sha256", "targets[0].tls.pin_sha256"},
	{"ca without a certificate", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "tls": {"ca_pem": "hello"}}]}`, "/targets/0/tls/ca_pem", "targets[0].tls.ca_pem"},
	{"tls on http", `{"targets": [{"name": "Door", "method": "GET", "url": "http://x.example", "tls": {"insecure": true}}]}`, "/targets/0/tls", "targets[0].tls"},
	{"status 600", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "success": {"status_min": 600}}]}`, "/targets/0/success/status_min", "targets[0].success.status_min"},
	{"pointer without equals", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "success": {"json_pointer": "/ok"}}]}`, "/targets/0/success", "targets[0].success.equals"},
	{"equals without pointer", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "success": {"equals": "true"}}]}`, "/targets/0/success", "targets[0].success.json_pointer"},
	{"pointer without slash", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "success": {"json_pointer": "ok", "equals": "1"}}]}`, "/targets/0/success/json_pointer", "targets[0].success.json_pointer"},
	{"async timeout of 25 hours", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "async": {"enabled": true, "timeout": 90000}}]}`, "/targets/0/async/timeout", "targets[0].async.timeout"},
	{"11 tries", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "retry": {"max_tries": 11}}]}`, "/targets/0/retry/max_tries", "targets[0].retry.max_tries"},
	{"blank serial port", `{"serial_ports": [" "]}`, "/serial_ports/0", "serial_ports[0]"},
	{"timeout as text", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "timeout": "10"}]}`, "/targets/0/timeout", "cannot unmarshal string"},
	{"unknown log field", `{"log": {"keep_day": 30}}`, "/log", `unknown field "keep_day"`},
	{"negative keep days", `{"log": {"keep_days": -1}}`, "/log/keep_days", "log.keep_days: -1 is negative"},
	{"keep days past 100 years", `{"log": {"keep_days": 36501}}`, "/log/keep_days", "log.keep_days: 36501 is more than"},
	{"keep days as text", `{"log": {"keep_days": "30"}}`, "/log/keep_days", "cannot unmarshal string"},
	{"keep days of 1.5", `{"log": {"keep_days": 1.5}}`, "/log/keep_days", "cannot unmarshal number 1.5"},
	{"negative max attempts", `{"log": {"max_attempts": -10}}`, "/log/max_attempts", "log.max_attempts: -10 is negative"},
	{"max attempts past 100 million", `{"log": {"max_attempts": 100000001}}`, "/log/max_attempts", "log.max_attempts: 100000001 is more than"},
	{"log as a number", `{"log": 90}`, "/log", "cannot unmarshal number"},
	{"unknown devices field", `{"devices": {"bh2": []}}`, "/devices", `unknown field "bh2"`},
	{"blank BH1 port", `{"devices": {"bh1": [" "]}}`, "/devices/bh1/0", "devices.bh1[0]: is empty"},
	{"firmata without buttons", `{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": []}]}}`, "/devices/firmata/0/buttons", "devices.firmata[0].buttons: none configured"},
	{"firmata without port", `{"devices": {"firmata": [{"buttons": [{"pin": 2}]}]}}`, "/devices/firmata/0", "devices.firmata[0].port: is empty"},
	{"firmata pin 128", `{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": [{"pin": 2}, {"pin": 128}]}]}}`, "/devices/firmata/0/buttons/1/pin", "devices.firmata[0].buttons[1].pin: 128 is out of range"},
	{"firmata LED colour", `{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": [{"pin": 2, "leds": [{"pin": 3, "color": "pink"}]}]}]}}`, "/devices/firmata/0/buttons/0/leds/0/color", "devices.firmata[0].buttons[0].leds[0].color"},
	{"firmata debounce of 2 s", `{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": [{"pin": 2}], "debounce_ms": 2000}]}}`, "/devices/firmata/0/debounce_ms", "devices.firmata[0].debounce_ms"},
	{"firmata negative baud", `{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": [{"pin": 2}], "baud": -1}]}}`, "/devices/firmata/0/baud", "devices.firmata[0].baud"},
	{"unknown firmata field", `{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": [{"pin": 2, "led": 3}]}]}}`, "/devices/firmata/0/buttons/0", `unknown field "led"`},
	{"lines without patterns or LEDs", `{"devices": {"lines": [{"port": "/dev/ttyUSB0"}]}}`, "/devices/lines/0", "devices.lines[0].patterns: none configured"},
	{"lines pattern with edge and gesture", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "patterns": [{"regexp": "^P$", "button": 1, "edge": "down", "gesture": "press"}]}]}}`, "/devices/lines/0/patterns/0", "devices.lines[0].patterns[0]: has both"},
	{"lines pattern without edge", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "patterns": [{"regexp": "^P$", "button": 1}]}]}}`, "/devices/lines/0/patterns/0", "devices.lines[0].patterns[0].edge: is empty"},
	{"lines long gesture", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "patterns": [{"regexp": "^P$", "button": 1, "gesture": "long"}]}]}}`, "/devices/lines/0/patterns/0/gesture", "devices.lines[0].patterns[0].gesture: long is not possible"},
	{"lines empty regexp", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "patterns": [{"regexp": "", "button": 1, "edge": "press"}]}]}}`, "/devices/lines/0/patterns/0/regexp", "devices.lines[0].patterns[0].regexp: is empty"},
	{"lines button 65", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "patterns": [{"regexp": "^P$", "button": 65, "edge": "press"}]}]}}`, "/devices/lines/0/patterns/0/button", "devices.lines[0].patterns[0].button"},
	{"lines LED key blink", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "led": {"blink": "B"}}]}}`, "/devices/lines/0/led", `devices.lines[0].led["blink"]`},
	{"lines LED template with a tab", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "led": {"on": "L\tON"}}]}}`, "/devices/lines/0/led/on", `devices.lines[0].led["on"]`},
	{"lines line ending", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "led": {"on": "ON"}, "line_ending": "nl"}]}}`, "/devices/lines/0/line_ending", "devices.lines[0].line_ending"},
	{"usb enabled as text", `{"devices": {"usb": {"enabled": "no"}}}`, "/devices/usb/enabled", "cannot unmarshal string"},
	{"unknown usb field", `{"devices": {"usb": {"enable": false}}}`, "/devices/usb", `unknown field "enable"`},
	{"debounce without ms", `{"devices": {"debounce": [{"device": "serial:SIM-1"}]}}`, "/devices/debounce/0", "devices.debounce[0].ms: is missing"},
	{"debounce of 1001 ms", `{"devices": {"debounce": [{"device": "serial:SIM-1", "ms": 1001}]}}`, "/devices/debounce/0/ms", "devices.debounce[0].ms: 1001 is out of range"},
	{"debounce device without driver", `{"devices": {"debounce": [{"device": "SIM-1", "ms": 10}]}}`, "/devices/debounce/0/device", "devices.debounce[0].device"},
	{"debounce button 65", `{"devices": {"debounce": [{"device": "serial:SIM-1", "button": 65, "ms": 10}]}}`, "/devices/debounce/0/button", "devices.debounce[0].button"},
	{"pair button 0", `{"devices": {"pairs": [{"button_device": "serial:SIM-1", "button": 0, "light_device": "usb:27b8:01ed:1"}]}}`, "/devices/pairs/0/button", "devices.pairs[0].button"},
	{"pair without light", `{"devices": {"pairs": [{"button_device": "serial:SIM-1", "button": 1}]}}`, "/devices/pairs/0", "devices.pairs[0].light_device: is empty"},
	{"pair light LED 65", `{"devices": {"pairs": [{"button_device": "serial:SIM-1", "button": 1, "light_device": "usb:27b8:01ed:1", "light_button": 65}]}}`, "/devices/pairs/0/light_button", "devices.pairs[0].light_button"},
	{"devices as a list", `{"devices": []}`, "/devices", "cannot unmarshal array"},
	{"no url, not dynamic", `{"targets": [{"name": "Door", "method": "GET"}]}`, "/targets/0", "targets[0].url: is required"},
	{"empty url, dynamic off", `{"targets": [{"name": "Door", "method": "GET", "url": "", "dynamic": {"enabled": false}}]}`, "/targets/0/url", "targets[0].url: is required"},
	{"dynamic with an ftp url", `{"targets": [{"name": "Door", "method": "GET", "url": "ftp://x.example", "dynamic": {"enabled": true}}]}`, "/targets/0/url", "targets[0].url"},
	{"dynamic host with a scheme", `{"targets": [{"name": "Door", "method": "GET", "dynamic": {"enabled": true, "hosts": ["https://x.example"]}}]}`, "/targets/0/dynamic/hosts/0", "targets[0].dynamic.hosts[0]"},
	{"dynamic host with a port", `{"targets": [{"name": "Door", "method": "GET", "dynamic": {"enabled": true, "hosts": ["x.example:8080"]}}]}`, "/targets/0/dynamic/hosts/0", "targets[0].dynamic.hosts[0]"},
	{"dynamic host wildcard inside", `{"targets": [{"name": "Door", "method": "GET", "dynamic": {"enabled": true, "hosts": ["a.*.example"]}}]}`, "/targets/0/dynamic/hosts/0", "targets[0].dynamic.hosts[0]"},
	{"unknown dynamic field", `{"targets": [{"name": "Door", "method": "GET", "dynamic": {"enabled": true, "url": "https://x.example"}}]}`, "/targets/0/dynamic", `unknown field "url"`},
	{"unknown server field", `{"server": {"host": "0.0.0.0"}}`, "/server", `unknown field "host"`},
	{"server port 70000", `{"server": {"port": 70000}}`, "/server/port", "server.port: 70000 is not a port: give 1-65535"},
	{"server port 0", `{"server": {"port": 0}}`, "/server/port", "server.port: 0 is not a port"},
	{"inspector keeps 0", `{"server": {"inspector_keep": 0}}`, "/server/inspector_keep", "server.inspector_keep: 0 is out of range"},
	{"inspector keeps 1001", `{"server": {"inspector_keep": 1001}}`, "/server/inspector_keep", "server.inspector_keep: 1001 is out of range"},
	{"public url without scheme", `{"server": {"public_url": "buttons.example.com"}}`, "/server/public_url", "server.public_url"},
	{"public url with a query", `{"server": {"public_url": "https://buttons.example.com/?a=1"}}`, "/server/public_url", "has a query or fragment"},
	{"public url with a fragment", `{"server": {"public_url": "https://buttons.example.com/#x"}}`, "/server/public_url", "has a query or fragment"},
	{"public url with a password", `{"server": {"public_url": "https://u:p@buttons.example.com/"}}`, "/server/public_url", "carries a user name or password"},
	{"lan as text", `{"server": {"lan": "yes"}}`, "/server/lan", "cannot unmarshal string"},
}

// goodDocs are edge cases that both the schema and import accept: the
// schema is no stricter than the code here.
var goodDocs = []struct{ name, doc string }{
	{"empty", `{}`},
	{"version 0", `{"version": 0}`},
	{"$schema for editors", `{"$schema": "./config.schema.json", "targets": []}`},
	{"minimal target", `{"targets": [{"name": "Türklingel 2", "method": "GET", "url": "HTTP://192.168.1.20/<NAME>"}]}`},
	{"zero means default", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "timeout": 0, "async": {"timeout": 0}, "retry": {"max_tries": 0}, "success": {"status_min": 0, "status_max": 0, "json_pointer": "", "equals": ""}}]}`},
	{"absent gesture means press", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example"}], "bindings": [{"button": 64, "target": "Door"}]}`},
	{"preset without method", `{"targets": [{"name": "Door", "url": "https://hooks.slack.com/x", "preset": {"kind": "slack", "message": "m"}}]}`},
	{"preset over a hidden GET form body", `{"targets": [{"name": "Door", "method": "GET", "url": "https://hooks.slack.com/x", "body": {"kind": "form", "form": [{"key": "", "value": ""}]}, "preset": {"kind": "discord", "message": "m"}}]}`},
	{"preset over a hidden raw body without type", `{"targets": [{"name": "Door", "method": "POST", "url": "https://hooks.slack.com/x", "body": {"kind": "raw"}, "preset": {"kind": "teams", "message": "m"}}]}`},
	{"mattermost over http with a channel", `{"targets": [{"name": "Door", "url": "http://chat.lan/hooks/x", "preset": {"kind": "mattermost", "message": "m", "channel": "@ops"}}]}`},
	{"empty preset kind", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "preset": {"kind": ""}, "body": {"kind": ""}, "auth": {"kind": ""}}]}`},
	{"apikey with the default header", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "apikey", "key": "keyring:k"}}]}`},
	{"oauth on localhost", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "oauth2", "token_url": "http://localhost:8080/token", "client_id": "c", "client_secret": "env:S"}}]}`},
	{"oauth on 127.0.0.1", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "oauth2", "token_url": "http://127.0.0.1/token", "client_id": "c", "client_secret": "env:S"}}]}`},
	{"pin in lower case with spaces", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "tls": {"pin_sha256": " ` + strings.TrimSpace(strings.Repeat("ab ", 32)) + ` ", "insecure": false}}]}`},
	{"secret ref with colons", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "auth": {"kind": "bearer", "token": "keyring:a:b"}}]}`},
	{"lower-case header", `{"targets": [{"name": "Door", "method": "DELETE", "url": "https://x.example", "headers": [{"key": "x-source", "value": ""}], "body": {"kind": "json", "json": "{}"}}]}`},
	{"empty log section", `{"log": {}}`},
	{"empty server section", `{"server": {}}`},
	{"server section as export writes it", `{"server": {"port": 8735, "lan": false, "public_url": "", "https": false, "inspector": false, "inspector_keep": 50}}`},
	{"server limits", `{"server": {"port": 65535, "inspector_keep": 1000, "public_url": "http://10.0.0.2:8080/bh/"}}`},
	{"server lower limits", `{"server": {"port": 1, "inspector_keep": 1}}`},
	{"dynamic without url", `{"targets": [{"name": "Door", "method": "POST", "dynamic": {"enabled": true}}]}`},
	{"dynamic with an empty url", `{"targets": [{"name": "Door", "method": "POST", "url": "", "dynamic": {"enabled": true, "hosts": ["example.com", "*.example.com", "192.168.1.20", "::1", "my_host.lan"]}}]}`},
	{"dynamic with a fallback url", `{"targets": [{"name": "Door", "method": "POST", "url": "https://x.example/<NAME>", "dynamic": {"enabled": true}}]}`},
	{"dynamic off with hosts kept", `{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example", "dynamic": {"enabled": false, "hosts": ["x.example"]}}]}`},
	{"no log limits", `{"log": {"keep_days": 0, "max_attempts": 0}}`},
	{"log limits at their maximum", `{"log": {"keep_days": 36500, "max_attempts": 100000000}}`},
	{"a version 1 file", `{"version": 1, "targets": [], "bindings": [], "serial_ports": []}`},
	{"a version 2 file with serial ports", `{"version": 2, "targets": [], "bindings": [], "serial_ports": ["/dev/ttyACM0", "COM3"], "log": {"keep_days": 90, "max_attempts": 0}}`},
	{"empty devices section", `{"devices": {}}`},
	{"devices as export writes them", `{"devices": {"bh1": [], "firmata": [], "lines": [], "usb": {"enabled": true}, "debounce": [], "pairs": []}}`},
	{"the same BH1 port in both lists", `{"serial_ports": ["/dev/ttyACM0"], "devices": {"bh1": ["/dev/ttyACM0"]}}`},
	{"firmata with defaults", `{"devices": {"firmata": [{"port": "COM3", "buttons": [{"pin": 0}], "baud": 0, "debounce_ms": 0}]}}`},
	{"firmata single-colour LED", `{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": [{"pin": 2, "leds": [{"pin": 13, "color": ""}]}]}]}}`},
	{"LED-only line device", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "led": {"on": "L{button} {color}", "off": "L{button} OFF", "pulse:yellow": "P {{{ms}}}"}}]}}`},
	{"line device with one line per press", `{"devices": {"lines": [{"port": "/dev/ttyUSB0", "patterns": [{"regexp": "^PRESSED$", "button": 1, "edge": "press"}], "line_ending": "cr"}]}}`},
	{"usb off", `{"devices": {"usb": {"enabled": false}}}`},
	{"usb left as it is", `{"devices": {"usb": {}}}`},
	{"debounce off for one button", `{"devices": {"debounce": [{"device": "serial:SIM-1", "button": 2, "ms": 0}, {"device": "serial:SIM-1", "ms": 1000}]}}`},
	{"pair with the default LED", `{"devices": {"pairs": [{"button_device": "usb:1d34:000d:", "button": 1, "light_device": "usb:27b8:01ed:2000ABCD"}]}}`},
	{"ids and times as export writes them", `{"version": 2, "targets": [{"id": "abc", "name": "Door", "enabled": true, "method": "GET", "url": "https://x.example", "body": {}, "created": "2025-01-02T03:04:05.123456789Z", "updated": "2025-01-02T03:04:05Z", "version": 7}], "bindings": [{"id": "b1", "device": "", "button": 1, "gesture": "double", "target": "Door"}], "serial_ports": [], "log": {"keep_days": 90, "max_attempts": 0}}`},
}

// stricterDocs are documents the schema refuses but import takes: known
// gaps in the code's validation, kept here so that they stay known. When
// the code learns to refuse one, move it to badDocs.
var stricterDocs = []struct{ name, doc, why string }{
	{"empty gesture",
		`{"targets": [{"name": "Door", "method": "GET", "url": "https://x.example"}], "bindings": [{"button": 1, "gesture": "", "target": "Door"}]}`,
		`merge turns "" into press; the documented values are press, long and double`},
	{"firmata button without pin",
		`{"devices": {"firmata": [{"port": "/dev/ttyACM0", "buttons": [{"leds": [{"pin": 13}]}]}]}}`,
		`encoding/json reads an absent pin as pin 0, a real pin; the schema asks for the pin to be written`},
	{"null keep days",
		`{"log": {"keep_days": null}}`,
		`encoding/json leaves the setting unset (unchanged); the schema documents a number`},
}

func TestSchemaAndImportAgree(t *testing.T) {
	sch, _ := loadSchema(t)
	e := newSchemaEngine(t)
	if err := e.Import(fullConfig(t)); err != nil {
		t.Fatal(err)
	}
	before := exportJSON(t, e)
	for _, c := range badDocs {
		t.Run("bad/"+c.name, func(t *testing.T) {
			err := validateDoc(sch, []byte(c.doc))
			if err == nil {
				t.Errorf("the schema accepts %s", c.doc)
			} else if locs := errorLocations(err); !slices.ContainsFunc(locs, func(l string) bool { return l == c.where || strings.HasPrefix(l, c.where+"/") }) {
				t.Errorf("the schema's errors are at %q, want one at %q:\n%v", locs, c.where, err)
			}
			err = importJSON(e, []byte(c.doc))
			switch {
			case err == nil:
				t.Errorf("import accepts %s", c.doc)
			case !strings.Contains(err.Error(), c.codeErr):
				t.Errorf("import error = %v, want it to mention %q", err, c.codeErr)
			}
			if after := exportJSON(t, e); !bytes.Equal(after, before) {
				t.Errorf("a refused import changed the config:\n%s", after)
			}
		})
	}
	for _, c := range goodDocs {
		t.Run("good/"+c.name, func(t *testing.T) {
			if err := validateDoc(sch, []byte(c.doc)); err != nil {
				t.Errorf("the schema refuses a document import takes: %v", err)
			}
			if err := importJSON(newSchemaEngine(t), []byte(c.doc)); err != nil {
				t.Errorf("import refuses it: %v", err)
			}
		})
	}
	for _, c := range stricterDocs {
		t.Run("stricter/"+c.name, func(t *testing.T) {
			if err := validateDoc(sch, []byte(c.doc)); err == nil {
				t.Errorf("the schema accepts %s", c.doc)
			}
			if err := importJSON(newSchemaEngine(t), []byte(c.doc)); err != nil {
				t.Errorf("import now refuses it (%v): move the case to badDocs", err)
			}
		})
	}
}

// errorLocations lists the instance locations (JSON pointers) of the
// leaves of a schema validation error.
func errorLocations(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var locs []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := ""
			for _, tok := range e.InstanceLocation {
				loc += "/" + strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
			}
			locs = append(locs, loc)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return locs
}

func TestSchemaHasEveryField(t *testing.T) {
	_, raw := loadSchema(t)
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkSchemaFields(reflect.TypeFor[engine.Config](), []map[string]any{raw}, raw, "", report)
	for _, p := range problems {
		t.Error(p)
	}
}

// TestSchemaFieldCheckFails shows that checkSchemaFields notices a field
// missing from the schema, a schema property that is no field, and an
// object left open.
func TestSchemaFieldCheckFails(t *testing.T) {
	_, raw := loadSchema(t)
	defs := raw["$defs"].(map[string]any)
	delete(defs["Auth"].(map[string]any)["properties"].(map[string]any), "scopes")
	delete(defs["TLS"].(map[string]any), "additionalProperties")
	defs["Binding"].(map[string]any)["properties"].(map[string]any)["colour"] = map[string]any{"type": "string"}
	defs["Target"].(map[string]any)["allOf"].([]any)[0].(map[string]any)["else"].(map[string]any)["required"] = []any{"methd"}
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkSchemaFields(reflect.TypeFor[engine.Config](), []map[string]any{raw}, raw, "", report)
	for _, want := range []string{"targets[].auth.scopes", "targets[].tls: no schema closes", "bindings[].colour", "targets[].methd"} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("the check does not report %q; it reports:\n%s", want, strings.Join(problems, "\n"))
		}
	}
}

// checkSchemaFields checks the schemas that apply to a JSON object of Go
// type typ (nodes, with their $refs and conditional parts): one of them
// closes the object (additionalProperties false) and lists every JSON field
// of typ in its properties, and every property any of them names (in
// properties, required or dependentRequired) is a field of typ. It recurses
// into struct fields and slices of structs.
func checkSchemaFields(typ reflect.Type, nodes []map[string]any, root map[string]any, path string, report func(string, ...any)) {
	var all []map[string]any
	for _, n := range nodes {
		all = append(all, expandSchema(n, root)...)
	}
	fields := jsonFields(typ)
	closed := false
	for _, n := range all {
		props, ok := n["properties"].(map[string]any)
		if n["additionalProperties"] != false || !ok {
			continue
		}
		closed = true
		for _, f := range fields {
			if _, ok := props[f.name]; !ok {
				report("%s%s: the schema has no property for the Go field %s.%s", path, f.name, typ, f.goName)
			}
		}
	}
	if !closed {
		report("%s: no schema closes the object (additionalProperties: false with properties) for %s", strings.TrimSuffix(path, "."), typ)
	}
	known := map[string]reflect.Type{}
	for _, f := range fields {
		known[f.name] = f.typ
	}
	var named []string
	for _, n := range all {
		if props, ok := n["properties"].(map[string]any); ok {
			for name := range props {
				named = append(named, name)
			}
		}
		for _, name := range asStrings(n["required"]) {
			named = append(named, name)
		}
		if dr, ok := n["dependentRequired"].(map[string]any); ok {
			for name, others := range dr {
				named = append(named, name)
				named = append(named, asStrings(others)...)
			}
		}
	}
	sort.Strings(named)
	for _, name := range slices.Compact(named) {
		if _, ok := known[name]; !ok {
			report("%s%s: the schema names a property that %s has no JSON field for", path, name, typ)
		}
	}
	for _, f := range fields {
		ft, suffix, items := f.typ, "", false
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice {
			ft, suffix, items = ft.Elem(), "[]", true
		}
		if ft.Kind() != reflect.Struct || ft == reflect.TypeFor[time.Time]() {
			continue
		}
		var child []map[string]any
		for _, n := range all {
			props, _ := n["properties"].(map[string]any)
			p, ok := props[f.name].(map[string]any)
			if !ok {
				continue
			}
			if !items {
				child = append(child, p)
				continue
			}
			for _, pn := range expandSchema(p, root) {
				if it, ok := pn["items"].(map[string]any); ok {
					child = append(child, it)
				}
			}
		}
		checkSchemaFields(ft, child, root, path+f.name+suffix+".", report)
	}
}

// expandSchema returns n and every schema that applies to the same
// instance through $ref, allOf, anyOf, oneOf, if, then, else and not.
func expandSchema(n map[string]any, root map[string]any) []map[string]any {
	out := []map[string]any{n}
	if ref, ok := n["$ref"].(string); ok {
		if target, ok := resolveRef(root, ref); ok {
			out = append(out, expandSchema(target, root)...)
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := n[k].([]any)
		for _, s := range list {
			if m, ok := s.(map[string]any); ok {
				out = append(out, expandSchema(m, root)...)
			}
		}
	}
	for _, k := range []string{"if", "then", "else", "not"} {
		if m, ok := n[k].(map[string]any); ok {
			out = append(out, expandSchema(m, root)...)
		}
	}
	return out
}

// resolveRef follows a local reference ("#/$defs/Target").
func resolveRef(root map[string]any, ref string) (map[string]any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	m, ok := schemaLookup(root, p).(map[string]any)
	return m, ok
}

// schemaAt returns the value at a slash-separated path in the schema.
func schemaAt(t *testing.T, root map[string]any, path string) any {
	t.Helper()
	v := schemaLookup(root, path)
	if v == nil {
		t.Fatalf("the schema has nothing at %s", path)
	}
	return v
}

func schemaLookup(root map[string]any, path string) any {
	var v any = root
	for _, tok := range strings.Split(path, "/") {
		switch node := v.(type) {
		case map[string]any:
			v = node[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node) {
				return nil
			}
			v = node[i]
		default:
			return nil
		}
	}
	return v
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, s := range list {
		if s, ok := s.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// stringSet returns the distinct strings of a []string or a decoded JSON
// array, sorted.
func stringSet(v any) []string {
	var out []string
	switch v := v.(type) {
	case []any:
		out = asStrings(v)
	case []string:
		out = slices.Clone(v)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// jsonField is one field of a struct as encoding/json writes it.
type jsonField struct {
	name, goName string
	typ          reflect.Type
}

// jsonFields lists the JSON fields of a struct type, following embedded
// structs without a name as encoding/json does.
func jsonFields(typ reflect.Type) []jsonField {
	var out []jsonField
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, goName: f.Name, typ: f.Type})
	}
	return out
}

// leafPaths lists the dotted JSON paths of typ's fields that hold values
// (not structs), with "[]" for the elements of a slice of structs.
func leafPaths(typ reflect.Type, prefix string) []string {
	var out []string
	for _, f := range jsonFields(typ) {
		ft, suffix := f.typ, ""
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			ft, suffix = ft.Elem(), "[]"
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			out = append(out, leafPaths(ft, prefix+f.name+suffix+".")...)
			continue
		}
		out = append(out, prefix+f.name)
	}
	return out
}

// markSet records in seen the leaf paths (as leafPaths names them) that v
// sets to a value other than the zero value.
func markSet(v reflect.Value, prefix string, seen map[string]bool) {
	for _, f := range jsonFields(v.Type()) {
		fv := v.FieldByName(f.goName)
		ft := f.typ
		switch {
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			for j := range fv.Len() {
				markSet(fv.Index(j), prefix+f.name+"[].", seen)
			}
		case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]():
			markSet(fv, prefix+f.name+".", seen)
		case !fv.IsZero():
			seen[prefix+f.name] = true
		}
	}
}
