/*
  Buttonhook reference firmware for Arduino boards.

  Speaks BH1, the Buttonhook line protocol (docs/protocol.md), at 115200 baud:
    - says who it is:    HELLO BH1 model=... fw=... sn=... buttons=N leds=...
                         at boot and in answer to "HELLO?"
    - reports buttons:   "D n" when button n goes down, "U n" when it comes up,
                         debounced here (20 ms of a steady level)
    - lights LEDs:       LED n OFF | ON colour | FLASH colour ms | PULSE colour ms
    - answers PING:      "PING token" -> "PONG token"
  A line that does not follow BH1 is counted and ignored; a well-formed
  command this board cannot do (an LED it does not have) is answered with
  "ERR text".

  Everything runs from loop() without delay(): no String objects, no heap,
  so it runs for months on a 2 KB Uno. Wiring, flashing and the serial
  number: device/firmware/README.md.
*/

// ---------------------------------------------------------------------------
// Configuration: change these for your board.

#define BH_MODEL "uno-button" // model name, no spaces
#define BH_FW "1.0.0"         // firmware version, no spaces

// The serial number is the host's identity for this board, so every board
// needs its own. Left undefined, one is made up once from analog noise and
// kept in EEPROM (at BH_EEPROM_ADDR, 8 bytes). Define it to choose one
// (printable ASCII, no spaces, at most 16 characters):
// #define BH_SERIAL "DESK-1"
#define BH_EEPROM_ADDR 0

#ifndef BH_SERIAL
#include <EEPROM.h> // only then: AVR's EEPROM.h defines an object, unused otherwise
#endif

// LED kinds. A bi-colour LED has a red and a green die (yellow is both on);
// an RGB LED has red, green and blue. Use PWM pins (marked ~ on an Uno: 3, 5,
// 6, 9, 10, 11) so that PULSE fades; other pins blink instead.
#define LED_NONE 0
#define LED_BICOLOUR 1
#define LED_RGB 2

const uint8_t NO_PIN = 255;

// One row per button: the button's pin (wired to GND; the internal pull-up
// holds it HIGH when released) and its LED's pins.
struct ButtonPins {
  uint8_t button;
  uint8_t red, green, blue;
};

#ifdef BH_CONFIG
#include BH_CONFIG // host tests build other boards from a header like this block
#else
#define LED_TYPE LED_BICOLOUR
#define LED_ACTIVE_LOW 0 // 1 for a common-anode LED (the pin sinks current)

const ButtonPins PINS[] = {
  // button  red  green  blue
  {2, 9, 10, NO_PIN},
};
#endif

// ---------------------------------------------------------------------------
// Protocol constants (docs/protocol.md).

const uint32_t BAUD = 115200;
const uint8_t MAX_LINE = 128;     // bytes in a line, including its '\n'
const uint8_t MAX_BUTTON = 64;    // highest button number BH1 allows
const uint32_t MAX_LED_MS = 60000; // longest FLASH or PULSE period
const uint32_t DEBOUNCE_MS = 20;  // a level must hold this long to count

const uint8_t NUM_BUTTONS = sizeof(PINS) / sizeof(PINS[0]);

// ---------------------------------------------------------------------------
// Colours: what each BH1 colour looks like on an RGB and on a bi-colour LED.
// A bi-colour LED shows the nearest it has: blue as green, white as yellow.

struct Colour {
  const char *name;
  uint8_t r, g, b;   // on an RGB LED
  uint8_t biR, biG;  // on a bi-colour LED
};

const Colour COLOURS[] = {
  // name      RGB LED         bi-colour
  {"red",    255,   0,   0,   255,   0},
  {"green",    0, 255,   0,     0, 255},
  {"yellow", 255, 150,   0,   255, 255},
  {"blue",     0,   0, 255,     0, 255},
  {"white",  255, 255, 255,   255, 255},
};
const uint8_t NUM_COLOURS = sizeof(COLOURS) / sizeof(COLOURS[0]);

// ---------------------------------------------------------------------------
// State.

enum LedMode { MODE_OFF, MODE_ON, MODE_FLASH, MODE_PULSE };

struct Led {
  uint8_t mode;        // LedMode
  uint8_t colour;      // index into COLOURS
  uint32_t since;      // millis() when the command came
  uint32_t ms;         // FLASH length or PULSE period
  bool fresh;          // not shown yet
  uint8_t out[3];      // levels last written to red, green, blue
};

struct Button {
  bool down;           // the debounced state, as last reported
  bool rawDown;        // the pin's level at the last look
  uint32_t rawSince;   // millis() when rawDown last changed
};

Led leds[NUM_BUTTONS];
Button buttons[NUM_BUTTONS];

char serialNumber[17];

char line[MAX_LINE]; // the line being received, without its '\n', plus a NUL
uint8_t lineLen = 0;
bool lineTooLong = false;
uint32_t malformedLines = 0; // counted and ignored, as BH1 asks

// ---------------------------------------------------------------------------
// Identity.

// makeRandomId mixes the low bits of a floating analog pin with the time
// each conversion took. Weak entropy, but enough to tell a handful of boards
// apart; define BH_SERIAL when it has to be certain.
uint32_t makeRandomId() {
  uint32_t x = micros();
  for (uint8_t i = 0; i < 64; i++) {
    x = (x << 7) | (x >> 25);
    x ^= (uint32_t)analogRead(A0) ^ micros();
    x ^= x << 13; // xorshift32 spreads each new bit over the word
    x ^= x >> 17;
    x ^= x << 5;
  }
  return x != 0 ? x : 1;
}

void loadSerialNumber() {
#ifdef BH_SERIAL
  strncpy(serialNumber, BH_SERIAL, sizeof(serialNumber) - 1);
#else
#if defined(ESP32) || defined(ESP8266) || defined(ARDUINO_ARCH_RP2040)
  EEPROM.begin(BH_EEPROM_ADDR + 8); // these cores emulate EEPROM in flash
#endif
  // EEPROM: "BHsn" then 4 bytes of id. A fresh EEPROM holds 0xFF.
  const char magic[4] = {'B', 'H', 's', 'n'};
  bool stored = true;
  for (uint8_t i = 0; i < 4; i++) {
    if (EEPROM.read(BH_EEPROM_ADDR + i) != (uint8_t)magic[i]) stored = false;
  }
  uint32_t id = 0;
  if (stored) {
    for (uint8_t i = 0; i < 4; i++) id = (id << 8) | EEPROM.read(BH_EEPROM_ADDR + 4 + i);
  } else {
    id = makeRandomId();
    for (uint8_t i = 0; i < 4; i++) EEPROM.write(BH_EEPROM_ADDR + 4 + i, (uint8_t)(id >> (24 - 8 * i)));
    for (uint8_t i = 0; i < 4; i++) EEPROM.write(BH_EEPROM_ADDR + i, (uint8_t)magic[i]);
#if defined(ESP32) || defined(ESP8266) || defined(ARDUINO_ARCH_RP2040)
    EEPROM.commit();
#endif
  }
  const char hex[] = "0123456789ABCDEF";
  for (uint8_t i = 0; i < 8; i++) serialNumber[i] = hex[(id >> (28 - 4 * i)) & 0xF];
  serialNumber[8] = '\0';
#endif
}

void sendHello() {
  Serial.print("HELLO BH1 model=" BH_MODEL " fw=" BH_FW " sn=");
  Serial.print(serialNumber);
  Serial.print(" buttons=");
  Serial.print((unsigned int)NUM_BUTTONS);
  if (LED_TYPE == LED_RGB) {
    Serial.print(" leds=red,green,yellow,blue,white\n");
  } else if (LED_TYPE == LED_BICOLOUR) {
    Serial.print(" leds=red,green,yellow\n");
  } else {
    Serial.print(" leds=none\n");
  }
}

// ---------------------------------------------------------------------------
// Buttons.

void pollButtons(uint32_t now) {
  for (uint8_t i = 0; i < NUM_BUTTONS; i++) {
    Button &b = buttons[i];
    bool rawDown = digitalRead(PINS[i].button) == LOW;
    if (rawDown != b.rawDown) {
      b.rawDown = rawDown; // it moved (or bounced): start timing again
      b.rawSince = now;
    } else if (rawDown != b.down && now - b.rawSince >= DEBOUNCE_MS) {
      b.down = rawDown;
      Serial.print(b.down ? "D " : "U ");
      Serial.print((unsigned int)(i + 1));
      Serial.print('\n');
    }
  }
}

// ---------------------------------------------------------------------------
// LEDs.

void writeChannel(uint8_t pin, uint8_t &last, uint8_t level) {
  if (pin == NO_PIN || level == last) return;
  last = level;
  analogWrite(pin, LED_ACTIVE_LOW ? 255 - level : level);
}

// brightness is how bright LED l is now, 0..255.
uint8_t brightness(Led &l, uint32_t now) {
  switch (l.mode) {
  case MODE_ON:
    return 255;
  case MODE_FLASH:
    // On for ms, and for one update at least, so that "FLASH red 1" shows.
    if (now - l.since < l.ms || l.fresh) return 255;
    l.mode = MODE_OFF; // the flash is over
    return 0;
  case MODE_PULSE: {
    // A triangle from full down to dark and back, once per period, squared
    // so that the fade looks even to the eye. It starts bright, so a press
    // shows at once.
    uint32_t phase = (now - l.since) % l.ms;
    uint32_t t = phase * 510 / l.ms; // 0..509
    uint16_t level = t < 255 ? 255 - t : t - 255;
    return (uint8_t)(level * level / 255);
  }
  }
  return 0;
}

void updateLeds(uint32_t now) {
  if (LED_TYPE == LED_NONE) return;
  for (uint8_t i = 0; i < NUM_BUTTONS; i++) {
    Led &l = leds[i];
    uint16_t level = brightness(l, now);
    l.fresh = false;
    const Colour &c = COLOURS[l.colour];
    uint8_t r = LED_TYPE == LED_RGB ? c.r : c.biR;
    uint8_t g = LED_TYPE == LED_RGB ? c.g : c.biG;
    uint8_t b = LED_TYPE == LED_RGB ? c.b : 0;
    writeChannel(PINS[i].red, l.out[0], r * level / 255);
    writeChannel(PINS[i].green, l.out[1], g * level / 255);
    writeChannel(PINS[i].blue, l.out[2], b * level / 255);
  }
}

// ---------------------------------------------------------------------------
// Host commands.

// parseNumber reads a decimal number of 1 to 9 ASCII digits within lo..hi.
bool parseNumber(const char *s, uint32_t lo, uint32_t hi, uint32_t *out) {
  uint32_t n = 0;
  uint8_t digits = 0;
  for (; *s != '\0'; s++, digits++) {
    if (*s < '0' || *s > '9' || digits == 9) return false;
    n = n * 10 + (uint32_t)(*s - '0');
  }
  if (digits == 0 || n < lo || n > hi) return false;
  *out = n;
  return true;
}

// splitFields cuts s at runs of spaces, in place. It stores at most max
// fields and returns how many there are (perhaps more than max).
uint8_t splitFields(char *s, char *fields[], uint8_t max) {
  uint8_t n = 0;
  while (true) {
    while (*s == ' ') s++;
    if (*s == '\0') return n;
    if (n < max) fields[n] = s;
    if (n < 255) n++;
    while (*s != ' ' && *s != '\0') s++;
    if (*s == ' ') *s++ = '\0';
  }
}

bool is(const char *field, const char *keyword) { return strcasecmp(field, keyword) == 0; }

void malformed() { malformedLines++; }

// handleLed acts on "LED n OFF", "LED n ON c", "LED n FLASH c ms" and
// "LED n PULSE c ms" (f holds n fields).
void handleLed(char *f[], uint8_t n) {
  uint32_t button, ms = 0;
  if (n < 3 || !parseNumber(f[1], 1, MAX_BUTTON, &button)) return malformed();
  uint8_t mode, want;
  if (is(f[2], "OFF")) {
    mode = MODE_OFF;
    want = 3;
  } else if (is(f[2], "ON")) {
    mode = MODE_ON;
    want = 4;
  } else if (is(f[2], "FLASH")) {
    mode = MODE_FLASH;
    want = 5;
  } else if (is(f[2], "PULSE")) {
    mode = MODE_PULSE;
    want = 5;
  } else {
    return malformed();
  }
  if (n != want) return malformed();
  uint8_t colour = 0;
  if (want >= 4) {
    while (colour < NUM_COLOURS && !is(f[3], COLOURS[colour].name)) colour++;
    if (colour == NUM_COLOURS) return malformed();
  }
  if (want == 5 && !parseNumber(f[4], 1, MAX_LED_MS, &ms)) return malformed();

  // A well-formed command: do it, or say why not.
  if (LED_TYPE == LED_NONE || button > NUM_BUTTONS) {
    Serial.print("ERR no LED ");
    Serial.print((unsigned int)button);
    Serial.print('\n');
    return;
  }
  Led &l = leds[button - 1];
  l.mode = mode;
  l.colour = colour;
  l.ms = ms;
  l.since = millis();
  l.fresh = true;
}

// handleLine acts on one line from the host, without its '\n'.
void handleLine(char *s, uint8_t len) {
  if (len > 0 && s[len - 1] == '\r') s[--len] = '\0'; // Serial.println's "\r\n"
  for (uint8_t i = 0; i < len; i++) {
    if (s[i] < 0x20 || s[i] > 0x7e) return malformed(); // control or non-ASCII byte
  }
  char *f[5];
  uint8_t n = splitFields(s, f, 5);
  if (n == 0 || n > 5) return malformed();
  if (is(f[0], "HELLO?")) {
    if (n != 1) return malformed();
    sendHello();
  } else if (is(f[0], "PING")) {
    if (n > 2) return malformed();
    Serial.print(n == 2 ? "PONG " : "PONG");
    if (n == 2) Serial.print(f[1]);
    Serial.print('\n');
  } else if (is(f[0], "LED")) {
    handleLed(f, n);
  } else {
    malformed();
  }
}

// readHost takes the bytes the host has sent and acts on each whole line. A
// line longer than MAX_LINE is dropped up to its '\n' and counted.
void readHost() {
  while (Serial.available() > 0) {
    int c = Serial.read();
    if (c < 0) return;
    if (c == '\n') {
      if (lineTooLong) {
        malformed();
      } else {
        line[lineLen] = '\0';
        handleLine(line, lineLen);
      }
      lineLen = 0;
      lineTooLong = false;
    } else if (lineLen < MAX_LINE - 1) {
      line[lineLen++] = (char)c;
    } else {
      lineTooLong = true;
    }
  }
}

// ---------------------------------------------------------------------------

void setup() {
  Serial.begin(BAUD);
  for (uint8_t i = 0; i < NUM_BUTTONS; i++) {
    pinMode(PINS[i].button, INPUT_PULLUP);
    const uint8_t ledPins[3] = {PINS[i].red, PINS[i].green, PINS[i].blue};
    for (uint8_t p = 0; p < 3; p++) {
      if (ledPins[p] == NO_PIN) continue;
      pinMode(ledPins[p], OUTPUT);
      digitalWrite(ledPins[p], LED_ACTIVE_LOW ? HIGH : LOW); // dark
    }
  }
  loadSerialNumber();
  sendHello(); // BH1: HELLO after reset (an Uno resets when the port opens)
}

void loop() {
  readHost();
  uint32_t now = millis(); // after readHost: no command is newer than now
  pollButtons(now);
  updateLeds(now);
}
