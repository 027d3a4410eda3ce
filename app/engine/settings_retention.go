package engine

import (
	"context"
	"errors"

	"github.com/buttonhook/buttonhook/storage"
)

// changeRetention tells maintain that the log settings changed. It never
// blocks: one pending change says it all, as maintain reads the settings
// again.
func (e *Engine) changeRetention() {
	select {
	case e.retentionChanged <- struct{}{}:
	default:
	}
}

// maintain runs the log's maintenance (the store's RunMaintenance: expiry
// by the log settings and value-log GC, at once and then hourly) until ctx
// is done or the store is closed. When the log settings change it stops that
// run and starts another with the new retention, which expires at once: a
// lowered limit applies without a restart.
func (e *Engine) maintain(ctx context.Context) {
	// A change made before Run is in the settings read below.
	select {
	case <-e.retentionChanged:
	default:
	}
	for {
		r := e.Settings().Log.Retention()
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- e.store.RunMaintenance(runCtx, storage.Maintenance{Retention: r}) }() // ends when runCtx is done or the store closes
		changed := false
		var err error
		select {
		case <-e.retentionChanged:
			changed = true
			cancel()
			err = <-done
		case err = <-done:
		}
		cancel()
		if err != nil && !errors.Is(err, storage.ErrClosed) {
			e.log.Warn("log maintenance stopped", "err", err)
		}
		if err != nil || !changed || ctx.Err() != nil {
			return
		}
		s := e.Settings().Log
		e.log.Info("log retention changed", "keep_days", s.KeepDays, "max_attempts", s.MaxAttempts)
	}
}
