// A second Arduino board for the host tests (BH_CONFIG): two buttons, each
// with a common-anode RGB LED, so the pins go LOW to light.
#define LED_TYPE LED_RGB
#define LED_ACTIVE_LOW 1

const ButtonPins PINS[] = {
  // button  red  green  blue
  {4, 3, 5, 6},
  {7, 9, 10, 11},
};
