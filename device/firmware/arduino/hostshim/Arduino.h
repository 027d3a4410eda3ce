// Arduino.h for the host: just enough of the Arduino core to build a sketch
// with g++ and run it as a Linux process, for Buttonhook's firmware tests
// (device/firmware/firmware_test.go). See shim.cpp for how pins, time and
// Serial are simulated.
#ifndef BH_HOSTSHIM_ARDUINO_H
#define BH_HOSTSHIM_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef uint8_t byte;
typedef bool boolean;

#define HIGH 0x1
#define LOW 0x0
#define INPUT 0x0
#define OUTPUT 0x1
#define INPUT_PULLUP 0x2
#define A0 14

void pinMode(uint8_t pin, uint8_t mode);
int digitalRead(uint8_t pin);
void digitalWrite(uint8_t pin, uint8_t level);
void analogWrite(uint8_t pin, int value);
int analogRead(uint8_t pin);
unsigned long millis();
unsigned long micros();
void delay(unsigned long ms);

// HardwareSerial is the board's serial port: the process's stdin and stdout.
class HardwareSerial {
 public:
  void begin(unsigned long baud);
  int available();
  int read();
  size_t write(uint8_t c);
  size_t write(const uint8_t *p, size_t n);
  size_t print(const char *s);
  size_t print(char c);
  size_t print(int n);
  size_t print(unsigned int n);
  size_t print(long n);
  size_t print(unsigned long n);
  operator bool() { return true; }
};

extern HardwareSerial Serial;

#endif
