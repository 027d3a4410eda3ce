// The host side of the Arduino shim: runs a sketch's setup() and loop() as a
// Linux process.
//
//   stdin/stdout  the board's serial port (a pseudo-terminal in the tests)
//   fd 3 (in)     pin levels from the test, lines "PIN <pin> <0|1>"; when it
//                 closes, the process exits (the test is gone)
//   fd 4 (out)    what the board did, one line each:
//                   MODE <pin> INPUT|OUTPUT|INPUT_PULLUP   a pinMode call
//                   OUT <pin> <0..255>   an output pin's new level (only
//                                        changes; digitalWrite HIGH is 255)
//                   RX <line>            a line the sketch read from Serial,
//                                        bytes outside ' '..'~' and '\' as \xNN
//   $BH_EEPROM    file that keeps the EEPROM across runs
//   $BH_MILLIS_START  millis() at start (to test the 49-day wrap)
//
// Without fd 3 and 4 it runs on stdin/stdout alone, with every button up.
// Between two loop() calls it waits up to 1 ms for input, so an idle board
// costs almost no CPU.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "Arduino.h"
#include "EEPROM.h"

void setup();
void loop();

HardwareSerial Serial;
EEPROMClass EEPROM;

namespace {

const int kCtlIn = 3, kCtlOut = 4;
const int kPins = 64;
bool ctlIn = false, ctlOut = false;

uint8_t pinModes[kPins];
uint8_t pinLevels[kPins];  // inputs: what the test set
int outLevels[kPins];      // outputs: last reported level, -1 for none

uint8_t rx[64];  // an Uno's receive buffer
size_t rxStart = 0, rxLen = 0;

char ctlLine[64];
size_t ctlLen = 0;

char rxLog[3 + 4 * 256 + 2];  // "RX " + escaped line + "\n"
size_t rxLogLen = 0;
bool rxLogFull = false;

struct timespec started;
uint32_t millisStart = 0;

uint8_t eeprom[1024];
bool eepromLoaded = false;
int eepromFd = -1;

void writeAll(int fd, const void *p, size_t n) {
  const char *b = static_cast<const char *>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the host or the test is gone: drop it, as a UART does
    b += w;
    n -= size_t(w);
  }
}

void report(const char *fmt, int pin, int value) {
  if (!ctlOut) return;
  char buf[64];
  int n = snprintf(buf, sizeof buf, fmt, pin, value);
  writeAll(kCtlOut, buf, size_t(n));
}

void setOut(uint8_t pin, int level) {
  if (pin >= kPins) return;
  if (level < 0) level = 0;
  if (level > 255) level = 255;
  if (outLevels[pin] == level) return;
  outLevels[pin] = level;
  report("OUT %d %d\n", pin, level);
}

// logRX records one byte the sketch read, reporting each whole line.
void logRX(uint8_t c) {
  if (!ctlOut) return;
  if (rxLogLen == 0) {
    memcpy(rxLog, "RX ", 3);
    rxLogLen = 3;
  }
  if (c == '\n') {
    rxLog[rxLogLen++] = '\n';
    writeAll(kCtlOut, rxLog, rxLogLen);
    rxLogLen = 0;
    rxLogFull = false;
    return;
  }
  if (rxLogFull || rxLogLen + 4 >= sizeof rxLog - 1) {
    rxLogFull = true;  // a very long line: the log keeps its start
    return;
  }
  if (c < 0x20 || c > 0x7e || c == '\\') {
    rxLogLen += size_t(snprintf(rxLog + rxLogLen, 5, "\\x%02X", c));
  } else {
    rxLog[rxLogLen++] = char(c);
  }
}

void controlLine(const char *s) {
  int pin, level;
  if (sscanf(s, "PIN %d %d", &pin, &level) == 2 && pin >= 0 && pin < kPins) {
    pinLevels[pin] = level ? HIGH : LOW;
  } else {
    fprintf(stderr, "hostshim: bad control line %s\n", s);
  }
}

void readControl() {
  char buf[256];
  ssize_t n = ::read(kCtlIn, buf, sizeof buf);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) exit(0);  // the test is gone
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == '\n') {
      ctlLine[ctlLen] = '\0';
      controlLine(ctlLine);
      ctlLen = 0;
    } else if (ctlLen < sizeof ctlLine - 1) {
      ctlLine[ctlLen++] = buf[i];
    }
  }
}

// readSerial moves what the host sent into rx; false at end of input.
bool readSerial() {
  size_t room = sizeof rx - rxLen;
  if (room == 0) return true;  // the sketch is behind: the bytes wait in the terminal
  uint8_t buf[sizeof rx];
  ssize_t n = ::read(0, buf, room);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
  for (ssize_t i = 0; i < n; i++) rx[(rxStart + rxLen++) % sizeof rx] = buf[i];
  return true;
}

// idle waits up to 1 ms for serial or control input and takes it.
void idle() {
  struct pollfd fds[2] = {{0, POLLIN, 0}, {kCtlIn, POLLIN, 0}};
  nfds_t n = ctlIn ? 2 : 1;
  if (rxLen == sizeof rx) fds[0].fd = -1;  // no room: do not spin on it
  if (poll(fds, n, 1) < 0) return;
  bool open = true;
  if (fds[0].revents & POLLIN) {
    open = readSerial();
  } else if (fds[0].revents & (POLLHUP | POLLERR)) {
    open = false;
  }
  if (!open) usleep(1000);  // nobody has the port open: like a board with no host
  if (n == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) readControl();
}

void loadEEPROM() {
  if (eepromLoaded) return;
  eepromLoaded = true;
  memset(eeprom, 0xFF, sizeof eeprom);
  const char *path = getenv("BH_EEPROM");
  if (path == nullptr || *path == '\0') return;
  eepromFd = open(path, O_RDWR | O_CREAT, 0600);
  if (eepromFd < 0) {
    perror("hostshim: open $BH_EEPROM");
    exit(2);
  }
  ssize_t n = pread(eepromFd, eeprom, sizeof eeprom, 0);
  if (n < ssize_t(sizeof eeprom)) {
    if (n < 0) n = 0;
    memset(eeprom + n, 0xFF, sizeof eeprom - size_t(n));
    if (pwrite(eepromFd, eeprom, sizeof eeprom, 0) != ssize_t(sizeof eeprom)) {
      perror("hostshim: write $BH_EEPROM");
      exit(2);
    }
  }
}

}  // namespace

void pinMode(uint8_t pin, uint8_t mode) {
  if (pin >= kPins) return;
  pinModes[pin] = mode;
  static const char *const names[] = {"INPUT", "OUTPUT", "INPUT_PULLUP"};
  if (ctlOut && mode <= INPUT_PULLUP) {
    char buf[48];
    int n = snprintf(buf, sizeof buf, "MODE %d %s\n", pin, names[mode]);
    writeAll(kCtlOut, buf, size_t(n));
  }
}

int digitalRead(uint8_t pin) { return pin < kPins ? pinLevels[pin] : LOW; }

void digitalWrite(uint8_t pin, uint8_t level) { setOut(pin, level == LOW ? 0 : 255); }

void analogWrite(uint8_t pin, int value) { setOut(pin, value); }

// analogRead of a floating pin: noise.
int analogRead(uint8_t) { return rand() & 0x3FF; }

unsigned long millis() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t ms = int64_t(now.tv_sec - started.tv_sec) * 1000 + (now.tv_nsec - started.tv_nsec) / 1000000;
  return uint32_t(millisStart + uint32_t(ms));  // 32 bits, as on an AVR
}

unsigned long micros() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t us = int64_t(now.tv_sec - started.tv_sec) * 1000000 + (now.tv_nsec - started.tv_nsec) / 1000;
  return uint32_t(us);
}

void delay(unsigned long ms) { usleep(useconds_t(ms) * 1000); }

void HardwareSerial::begin(unsigned long) {}

int HardwareSerial::available() { return int(rxLen); }

int HardwareSerial::read() {
  if (rxLen == 0) return -1;
  uint8_t c = rx[rxStart];
  rxStart = (rxStart + 1) % sizeof rx;
  rxLen--;
  logRX(c);
  return c;
}

size_t HardwareSerial::write(uint8_t c) { return write(&c, 1); }

size_t HardwareSerial::write(const uint8_t *p, size_t n) {
  writeAll(1, p, n);
  return n;
}

size_t HardwareSerial::print(const char *s) { return write(reinterpret_cast<const uint8_t *>(s), strlen(s)); }
size_t HardwareSerial::print(char c) { return write(uint8_t(c)); }
size_t HardwareSerial::print(int n) { return print(long(n)); }
size_t HardwareSerial::print(unsigned int n) { return print((unsigned long)n); }

size_t HardwareSerial::print(long n) {
  char buf[24];
  snprintf(buf, sizeof buf, "%ld", n);
  return print(buf);
}

size_t HardwareSerial::print(unsigned long n) {
  char buf[24];
  snprintf(buf, sizeof buf, "%lu", n);
  return print(buf);
}

uint8_t EEPROMClass::read(int addr) {
  loadEEPROM();
  return addr >= 0 && addr < int(sizeof eeprom) ? eeprom[addr] : 0xFF;
}

void EEPROMClass::write(int addr, uint8_t value) {
  loadEEPROM();
  if (addr < 0 || addr >= int(sizeof eeprom)) return;
  eeprom[addr] = value;
  if (eepromFd >= 0 && pwrite(eepromFd, &value, 1, addr) != 1) {
    perror("hostshim: write $BH_EEPROM");
    exit(2);
  }
}

void EEPROMClass::update(int addr, uint8_t value) {
  if (read(addr) != value) write(addr, value);
}

int main() {
  clock_gettime(CLOCK_MONOTONIC, &started);
  srand(unsigned(started.tv_nsec) ^ unsigned(getpid()));
  if (const char *s = getenv("BH_MILLIS_START")) millisStart = uint32_t(strtoul(s, nullptr, 10));
  ctlIn = fcntl(kCtlIn, F_GETFD) >= 0;
  ctlOut = fcntl(kCtlOut, F_GETFD) >= 0;
  for (int i = 0; i < kPins; i++) {
    pinLevels[i] = HIGH;  // nothing pulls a pin low until the test says so
    outLevels[i] = -1;
  }
  if (ctlIn) fcntl(kCtlIn, F_SETFL, fcntl(kCtlIn, F_GETFL) | O_NONBLOCK);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  setup();
  for (;;) {
    loop();
    idle();
  }
}
