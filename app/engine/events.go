package engine

import (
	"sync"

	"github.com/buttonhook/buttonhook/storage"
)

// EventKind says what changed.
type EventKind int

// Event kinds.
const (
	DevicesChanged EventKind = iota // re-read Devices
	ConfigChanged                   // re-read Config
	AttemptChanged                  // Attempt was added or updated
	Notice                          // Message is something the user should see
)

// Event is something the engine tells its subscribers.
type Event struct {
	Kind    EventKind
	Attempt storage.Attempt
	Message string
	// Missed counts the events this subscriber lost before this one because
	// it fell behind.
	Missed int
}

type subscriber struct {
	ch     chan Event
	missed int
}

// bus fans events out to subscribers without ever blocking the publisher.
type bus struct {
	mu   sync.Mutex
	next int
	subs map[int]*subscriber
}

func (b *bus) subscribe(buf int) (<-chan Event, func()) {
	if buf < 1 {
		buf = 1
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]*subscriber{}
	}
	id := b.next
	b.next++
	s := &subscriber{ch: make(chan Event, buf)}
	b.subs[id] = s
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, id)
			b.mu.Unlock()
			close(s.ch)
		})
	}
}

func (b *bus) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		e.Missed = s.missed
		select {
		case s.ch <- e:
			s.missed = 0
		default:
			s.missed++
		}
	}
}
