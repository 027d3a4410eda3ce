package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
)

type buttonKey struct {
	device string
	button int
}

// job is one press to execute: every target bound to its gesture.
type job struct {
	deviceID string
	button   int
	gesture  device.Gesture
	at       time.Time
	targets  []actions.Target
	gated    bool // counted in the engine's press gate until its requests are out
}

// presser runs presses: one worker goroutine per button, fed by a bounded
// queue, so presses of one button run in order and one at a time while
// different buttons run independently.
type presser struct {
	e       *Engine
	mu      sync.Mutex
	queues  map[buttonKey]chan job
	stopped bool
	wg      sync.WaitGroup
}

// Manual is the gesture of an attempt fired by hand (buttonhook fire).
const Manual device.Gesture = "manual"

var eventTypes = map[device.Gesture]string{
	device.Press: actions.ETypePressed, device.LongPress: actions.ETypePressedLong,
	device.DoublePress: actions.ETypePressedDouble, Manual: actions.ETypeManual,
}

// press queues a gesture's targets on its button's worker. A full queue or a
// stopping engine refuses the press, and the refusal is logged as a failed
// attempt: no press is dropped silently.
func (p *presser) press(ctx, sendCtx context.Context, deviceID string, button int, g device.Gesture, at time.Time) {
	targets := p.e.targetsFor(deviceID, button, g)
	if len(targets) == 0 {
		msg := fmt.Sprintf("button %d of %s: %s, but no enabled target is bound to it", button, p.e.deviceName(deviceID), g)
		p.e.log.Info("press without binding", "device", deviceID, "button", button, "gesture", string(g))
		p.e.bus.publish(Event{Kind: Notice, Message: msg})
		return
	}
	j := job{deviceID: deviceID, button: button, gesture: g, at: at, targets: targets}
	k := buttonKey{deviceID, button}
	refusal := ""
	p.mu.Lock()
	if p.stopped || ctx.Err() != nil {
		refusal = "not sent: Buttonhook was stopping"
	} else {
		q := p.queues[k]
		if q == nil {
			q = make(chan job, p.e.qsize)
			p.queues[k] = q
			p.wg.Add(1)
			go p.worker(ctx, sendCtx, q) // exits when ctx is done, after draining q
		}
		j.gated = true
		p.e.gate.enter()
		select {
		case q <- j:
		default:
			j.gated = false
			p.e.gate.leave()
			refusal = fmt.Sprintf("refused: %d presses of this button were already waiting", p.e.qsize)
		}
	}
	p.mu.Unlock()
	if refusal != "" {
		p.refuse(j, refusal)
	}
}

func (p *presser) worker(ctx, sendCtx context.Context, q chan job) {
	defer p.wg.Done()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.stopped = true
			p.mu.Unlock()
			for {
				select {
				case j := <-q:
					p.ungate(j)
					p.refuse(j, "not sent: Buttonhook was stopping")
				default:
					return
				}
			}
		case j := <-q:
			if ctx.Err() != nil {
				p.ungate(j)
				p.refuse(j, "not sent: Buttonhook was stopping")
				continue
			}
			p.run(sendCtx, j)
		}
	}
}

// ungate lets the press gate know that j's requests are out.
func (p *presser) ungate(j job) {
	if j.gated {
		p.e.gate.leave()
	}
}

// wait returns when every worker has exited.
func (p *presser) wait() {
	p.wg.Wait()
}

func (p *presser) newAttempt(j job, t actions.Target) storage.Attempt {
	return storage.Attempt{
		ID: storage.NewAttemptID(j.at), Time: j.at,
		TargetID: t.ID, TargetName: t.Name, TargetVersion: t.Version,
		DeviceID: j.deviceID, DeviceName: p.e.deviceName(j.deviceID), Button: j.button, Gesture: string(j.gesture),
		Method: t.Method, URL: actions.RedactURL(t.URL), Status: storage.StatusWaiting,
	}
}

// refuse logs a press that will not be sent. It leaves the LED alone: the
// button is busy (still pulsing yellow for the request in flight) or
// Buttonhook is stopping (its LEDs going off); the log and the window say why.
func (p *presser) refuse(j job, reason string) {
	for _, t := range j.targets {
		a := p.newAttempt(j, t)
		a.Status, a.Error, a.ErrorClass, a.Finished = storage.StatusFailed, reason, storage.ErrorRefused, time.Now()
		p.finish(a)
	}
	p.e.log.Warn("press refused", "device", j.deviceID, "button", j.button, "reason", reason)
}

// sentWait bounds how long the yellow LED waits for requests to be written: a
// slow connect must not leave the button dark.
const sentWait = 20 * time.Millisecond

// run executes one press: requests first (the press path); once they are
// written (or have failed, or sentWait passed), the yellow LED and the Waiting
// records, so that nothing competes with a request on its way out; then each
// result is logged durably before the LED shows it.
func (p *presser) run(sendCtx context.Context, j job) []storage.Attempt {
	attempts := make([]storage.Attempt, len(j.targets))
	results := make([]chan actions.Result, len(j.targets))
	callbacks := make([]*callback, len(j.targets))
	sent := make(chan struct{}, len(j.targets))
	k := buttonKey{j.deviceID, j.button}
	var counts storage.Counts
	if j.deviceID != "" { // a press, not a manual fire
		counts = p.e.count(k, j.gesture)
	}
	for i, t := range j.targets {
		t, urlErr := p.e.withDynamicURL(t)
		attempts[i] = p.newAttempt(j, t)
		tags := actions.Tags{Time: j.at, EID: attempts[i].ID, EType: eventTypes[j.gesture],
			Name: fmt.Sprintf("button %d", j.button), DeviceID: j.deviceID, Target: t.Name, Hostname: p.e.host}
		setCounters(&tags, counts)
		ch := make(chan actions.Result, 1)
		results[i] = ch
		var once sync.Once
		signal := func() { once.Do(func() { sent <- struct{}{} }) }
		var cb *callback
		err := urlErr
		if err == nil {
			cb, err = p.e.registerCallback(t, attempts[i].ID, &tags)
		}
		if err != nil {
			signal()
			ch <- actions.Result{Err: err}
			continue
		}
		callbacks[i] = cb
		ctx := httptrace.WithClientTrace(sendCtx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { signal() }})
		a := &attempts[i]
		onTry := func(n int, r actions.Result, wait time.Duration) {
			signal()
			p.retrying(*a, n, r, wait)
		}
		go func() { // ends by the target's deadline times its tries
			r := p.e.sender.SendWithRetries(ctx, t, tags, onTry)
			signal()
			ch <- r
		}()
	}
	timeout := time.NewTimer(sentWait)
	for range j.targets {
		select {
		case <-sent:
			continue
		case <-timeout.C:
		}
		break
	}
	timeout.Stop()
	p.ungate(j)
	p.led(j, device.LEDBusy)
	var bc []storage.ButtonCounts
	if j.deviceID != "" {
		bc = append(bc, storage.ButtonCounts{Device: k.device, Button: k.button, Counts: counts})
	}
	// The Waiting records and the counters, in one transaction.
	if err := p.e.store.PutAttempts(attempts, bc...); err != nil {
		p.e.log.Warn("cannot log waiting attempts", "device", k.device, "button", k.button, "err", err)
	}
	for _, a := range attempts {
		p.e.bus.publish(Event{Kind: AttemptChanged, Attempt: a})
	}
	allOK := true
	async := map[int]chan storage.Attempt{} // by attempt index
	for i, ch := range results {
		r := <-ch
		a := &attempts[i]
		a.Finished = time.Now()
		record(a, r)
		if cb := callbacks[i]; cb != nil {
			if r.OK { // accepted: the callback decides
				done := make(chan storage.Attempt, 1)
				async[i] = done
				waiting := *a
				waiting.Status, waiting.Finished = storage.StatusWaiting, time.Time{}
				go func() { done <- p.awaitCallback(sendCtx, waiting, cb) }() // ends by the async timeout or sendCtx
				continue
			}
			p.e.callbacks.Cancel(cb.token)
		}
		if !p.finish(*a) || !r.OK {
			allOK = false
		}
	}
	for i, done := range async {
		a := <-done
		attempts[i] = a
		if !p.finish(a) || a.Status != storage.StatusOK {
			allOK = false
		}
	}
	if allOK {
		p.led(j, device.LEDSuccess)
	} else {
		p.led(j, device.LEDFailure)
	}
	return attempts
}

// record puts a result into its attempt: status, code, error and its
// class, timing, the request's header names and the start of the response.
func record(a *storage.Attempt, r actions.Result) {
	a.Code, a.Duration, a.Error, a.ErrorClass, a.Tries = r.Code, r.Duration, r.Reason(), r.Class(), r.Tries
	switch {
	case errors.Is(r.Err, ErrNoCallbackServer):
		a.ErrorClass = storage.ErrorCallback
	case errors.Is(r.Err, errNoDynamicURL):
		a.ErrorClass = errorDynamic
	}
	a.Status = storage.StatusOK
	if !r.OK {
		a.Status = storage.StatusFailed
	}
	a.Timing = storage.Timing{Connect: r.Timing.Connect, TLS: r.Timing.TLS, FirstByte: r.Timing.FirstByte, Total: r.Timing.Total}
	a.RequestHeaders = storage.HeaderNames(r.RequestHeaders)
	if len(r.Body) > 0 {
		body := r.Body[:min(len(r.Body), storage.MaxResponseExcerpt)]
		a.Response = strings.ToValidUTF8(string(body), "\uFFFD")
		a.ResponseTruncated = len(r.Body) > len(body)
	}
}

// retrying records a try that failed and will be tried again: the attempt
// stays Waiting, with the try's reason.
func (p *presser) retrying(a storage.Attempt, n int, r actions.Result, wait time.Duration) {
	a.Tries, a.Code = n, r.Code
	a.Error = fmt.Sprintf("try %d failed: %s; trying again in %s", n, r.Reason(), wait.Round(10*time.Millisecond))
	if err := p.e.store.PutAttempt(a); err != nil {
		p.e.log.Warn("cannot log a retried try", "id", a.ID, "err", err)
	}
	p.e.bus.publish(Event{Kind: AttemptChanged, Attempt: a})
}

// finish records a final attempt durably and reports whether it was recorded.
// An attempt that could not be recorded shows red, and is shown as Failed:
// neither the LED nor the window shows a success the log does not have.
func (p *presser) finish(a storage.Attempt) bool {
	err := p.e.store.PutAttemptDurable(a)
	if err != nil {
		p.e.log.Error("cannot log attempt", "id", a.ID, "target", a.TargetName, "status", string(a.Status), "err", err)
		if a.Status == storage.StatusOK {
			a.Error = fmt.Sprintf("the server answered %d, but", a.Code)
		} else if a.Error != "" {
			a.Error += "; and"
		}
		a.Error = strings.TrimPrefix(fmt.Sprintf("%s the attempt could not be logged: %v", a.Error, err), " ")
		a.Status, a.ErrorClass = storage.StatusFailed, storage.ErrorStorage
	}
	p.e.bus.publish(Event{Kind: AttemptChanged, Attempt: a})
	if err != nil {
		p.e.bus.publish(Event{Kind: Notice, Message: fmt.Sprintf("%s: %s", a.TargetName, a.Error)})
	}
	return err == nil
}

// led shows led on the job's button and on the lights paired with it.
func (p *presser) led(j job, led device.LED) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := p.e.manager.SetLED(ctx, j.deviceID, j.button, led); err != nil {
		p.e.log.Warn("cannot set LED", "device", j.deviceID, "button", j.button, "err", err)
	}
	for _, l := range p.e.lightsFor(j.deviceID, j.button) {
		if err := p.e.manager.SetLED(ctx, l.LightDevice, l.LightButton, led); err != nil {
			p.e.log.Warn("cannot set LED of paired light", "device", l.LightDevice, "button", l.LightButton, "err", err)
		}
	}
}

// TestTarget runs a target once with sample tag values, as Blynk's Test
// button does: the result is returned, not logged, no retries, no LED. An
// async target gets a placeholder callback URL that nothing waits for; a
// dynamic one goes where a press would (see withDynamicURL).
func (e *Engine) TestTarget(ctx context.Context, t actions.Target) actions.Result {
	tags := actions.Tags{Time: time.Now(), EID: storage.NewAttemptID(time.Now()), EType: actions.ETypeTest,
		Name: "test", DeviceID: "test", Target: t.Name, Hostname: e.host}
	t, err := e.withDynamicURL(t)
	if err != nil {
		return actions.Result{Err: err}
	}
	if t.Async.Enabled {
		base := e.callbackBaseURL()
		if base == "" {
			base = "http://127.0.0.1"
		}
		tags.CallbackURL = base + "/callback/" + testCallbackToken
	}
	return e.sender.Send(ctx, t, tags)
}

// testCallbackToken ends a test run's callback URL; it is no token, so a
// call to it is answered 404.
const testCallbackToken = "test-run"

// Fire runs a real attempt of the named target by hand (bt.tn's "manual"
// event type): logged like a press, with no device and no LED. It returns
// the attempt when it is finished.
func (e *Engine) Fire(ctx context.Context, name string) (storage.Attempt, error) {
	t, err := e.targetNamed(name)
	if err != nil {
		return storage.Attempt{}, err
	}
	if !t.Enabled {
		return storage.Attempt{}, fmt.Errorf("target %q is disabled", t.Name)
	}
	p := &presser{e: e}
	as := p.run(ctx, job{gesture: Manual, at: time.Now(), targets: []actions.Target{t}})
	return as[0], nil
}

// Test runs the named target once with sample tags; see TestTarget.
func (e *Engine) Test(ctx context.Context, name string) (actions.Result, error) {
	t, err := e.targetNamed(name)
	if err != nil {
		return actions.Result{}, err
	}
	return e.TestTarget(ctx, t), nil
}
