package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/storage"
	"github.com/buttonhook/buttonhook/storage/secrets"
)

// Runtime is an opened data directory with its engine: what the window and
// `buttonhook run` share.
type Runtime struct {
	Engine  *engine.Engine
	DataDir string
	// Server is the local HTTP server (callbacks, REST API, inspector).
	Server  *server.Local
	db      *storage.DB
	sender  *actions.Sender
	drivers []device.Driver
	log     *slog.Logger
}

// OpenRuntime opens the data directory and builds the engine over drivers
// (the BH1 driver alone when none is given). It starts nothing; call Run,
// then Close, which closes the drivers too.
func OpenRuntime(g Globals, logger *slog.Logger, drivers ...device.Driver) (*Runtime, error) {
	if len(drivers) == 0 {
		drivers = []device.Driver{serial.NewDriver(logger)}
	}
	db, err := storage.Open(g.DataDir, logger)
	if errors.Is(err, storage.ErrLocked) {
		return nil, fmt.Errorf("another Buttonhook is already running with data directory %s: use that one (its window, or `buttonhook log` and `targets` talk to it), or pass another --data-dir", g.DataDir)
	}
	if err != nil {
		return nil, err
	}
	sender := actions.NewSender(secrets.NewSources())
	e, err := engine.New(engine.Options{
		Logger: logger, Store: db, Sender: sender, ExtraPorts: g.Serial,
		Drivers: drivers, SecretStore: secrets.Keyring{},
	})
	if err != nil {
		sender.Close()
		closeDrivers(logger, drivers)
		db.Close()
		return nil, err
	}
	return &Runtime{Engine: e, DataDir: g.DataDir, Server: server.NewLocal(e, g.DataDir, logger),
		db: db, sender: sender, drivers: drivers, log: logger}, nil
}

// Run runs the engine, the local server and the control socket until ctx
// is done.
func (rt *Runtime) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return rt.Engine.Run(ctx) })
	g.Go(func() error { return rt.Server.Run(ctx) })
	g.Go(func() error {
		h := server.WithLocal(server.ControlHandler(rt.Engine), rt.Server)
		err := server.ServeControl(ctx, server.SocketPath(rt.DataDir), h)
		if err != nil {
			// The engine keeps working without it; only other commands can't reach it.
			rt.log.Warn("control socket unavailable: `buttonhook log` and `targets` cannot reach this instance", "err", err)
		}
		return nil
	})
	return g.Wait()
}

// Close closes the drivers and the log; call it after Run has returned
// (the Manager has then closed every device). Safe to call twice.
func (rt *Runtime) Close() error {
	rt.sender.Close()
	closeDrivers(rt.log, rt.drivers)
	return rt.db.Close()
}

func cmdRun(g Globals, logger *slog.Logger, args []string, env Env) error {
	fs := subFlags("run", env)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	rt, err := OpenRuntime(g, logger, env.drivers(logger)...)
	if err != nil {
		return err
	}
	defer rt.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("buttonhook running", "data_dir", g.DataDir, "serial", g.Serial)
	stopReporting := reportEvents(rt.Engine, logger)
	defer stopReporting()
	err = rt.Run(ctx)
	logger.Info("buttonhook stopped")
	return err
}

// reportEvents logs every finished attempt and every notice, so that a
// headless user sees each press as it happens. Its goroutine ends when the
// returned stop is called.
func reportEvents(e *engine.Engine, logger *slog.Logger) (stop func()) {
	events, unsubscribe := e.Subscribe(256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			switch {
			case ev.Kind == engine.AttemptChanged && ev.Attempt.Status != storage.StatusWaiting:
				a := ev.Attempt
				level := slog.LevelInfo
				if a.Status == storage.StatusFailed {
					level = slog.LevelWarn
				}
				logger.Log(context.Background(), level, "attempt", "status", string(a.Status), "code", a.Code,
					"target", a.TargetName, "device", a.DeviceID, "button", a.Button, "gesture", a.Gesture,
					"duration", a.Duration.Round(time.Microsecond), "trigger", a.ID, "error", a.Error)
			case ev.Kind == engine.Notice:
				logger.Info("notice", "msg", ev.Message)
			}
		}
	}()
	return func() { unsubscribe(); <-done }
}

func runGUI(g Globals, logger *slog.Logger, env Env) error {
	rt, err := OpenRuntime(g, logger, env.drivers(logger)...)
	if err != nil {
		return err
	}
	defer rt.Close()
	// Closing the window, SIGINT or SIGTERM stop it the same way.
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }() // ends when the window closes
	guiErr := env.GUI(ctx, rt)
	cancel()
	return errors.Join(guiErr, <-done)
}
