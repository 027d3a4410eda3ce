// EEPROM.h for the host: 1 KB of EEPROM (like an Uno's) kept in the file
// named by $BH_EEPROM, or in memory without it. A fresh EEPROM holds 0xFF.
#ifndef BH_HOSTSHIM_EEPROM_H
#define BH_HOSTSHIM_EEPROM_H

#include <stdint.h>

class EEPROMClass {
 public:
  uint8_t read(int addr);
  void write(int addr, uint8_t value);
  void update(int addr, uint8_t value);
  uint16_t length() { return 1024; }
};

extern EEPROMClass EEPROM;

#endif
