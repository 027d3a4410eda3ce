package serial_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
)

// BenchmarkEdgeLatency measures how long a button edge takes from the
// simulator's Down call to the driver's edge callback, over a real
// pseudo-terminal, and reports the median and 99th percentile.
func BenchmarkEdgeLatency(b *testing.B) {
	board, err := sim.New(sim.Options{})
	if err != nil {
		b.Fatalf("sim.New: %v", err)
	}
	b.Cleanup(func() { _ = board.Close() })
	dev, err := serial.NewDriver(nil).OpenPath(context.Background(), board.Path())
	if err != nil {
		b.Fatalf("OpenPath: %v", err)
	}
	b.Cleanup(func() { _ = dev.Close() })

	downs := make(chan time.Time, 1)
	ups := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- dev.Run(ctx, func(e device.Edge) {
			if e.Down {
				downs <- time.Now()
			} else {
				ups <- struct{}{}
			}
		})
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})

	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := board.Down(1); err != nil {
			b.Fatalf("Down: %v", err)
		}
		lat = append(lat, (<-downs).Sub(start))
		if err := board.Up(1); err != nil {
			b.Fatalf("Up: %v", err)
		}
		<-ups
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
}
