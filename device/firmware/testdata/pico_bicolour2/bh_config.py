# A second Pico board for the host tests: two buttons, each with a bi-colour
# (red/green) LED, and a serial number of its own choosing.
MODEL = "pico-duo"
SERIAL = "DUO-7"
LED_TYPE = "bicolour"
BUTTONS = [
    (2, 3, 4, None),
    (6, 7, 8, None),
]
