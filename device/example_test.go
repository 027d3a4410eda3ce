package device_test

import (
	"fmt"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

func ExampleGestureDetector() {
	d := device.NewGestureDetector(device.DefaultGestureTiming,
		func(deviceID string, button int, g device.Gesture) bool { return g == device.Press },
		func(deviceID string, button int, g device.Gesture, at time.Time) {
			fmt.Println(deviceID, "button", button, g)
		})
	now := time.Now()
	d.Edge("serial:SIM-1", device.Edge{Button: 1, Down: true, Time: now})
	d.Edge("serial:SIM-1", device.Edge{Button: 1, Down: false, Time: now.Add(120 * time.Millisecond)})
	// Output: serial:SIM-1 button 1 press
}

func ExampleInfo_Name() {
	fmt.Println(device.Info{ID: "serial:UNO1", Model: "uno", Serial: "UNO1"}.Name())
	fmt.Println(device.Info{ID: "serial:/dev/ttyACM0", Model: "uno", Path: "/dev/ttyACM0"}.Name())
	// Output:
	// uno UNO1
	// uno (/dev/ttyACM0)
}
