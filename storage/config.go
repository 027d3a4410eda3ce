package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// Limits on config names, in bytes.
const (
	maxKindLen = 64
	maxIDLen   = 256
)

const configPrefix = "c/"

// ConfigChange is one change applied by ApplyConfig: it stores Data as the
// document Kind/ID, or deletes that document when Data is nil.
type ConfigChange struct {
	Kind string
	ID   string
	Data []byte
}

// PutConfig stores data, a JSON document, as the config document of the given
// kind and id, replacing any previous one. It returns once the document is on
// disk.
//
// A kind is a short non-empty name without "/" (for example "target"); an id
// is any non-empty string up to 256 bytes without NUL.
func (db *DB) PutConfig(kind, id string, data []byte) error {
	c := ConfigChange{Kind: kind, ID: id, Data: data}
	if data == nil {
		return fmt.Errorf("put config %s/%s: %w: no data", kind, id, ErrInvalid)
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("put config %s/%s: %w", kind, id, err)
	}
	if err := db.applyConfig([]ConfigChange{c}); err != nil {
		return fmt.Errorf("put config %s/%s: %w", kind, id, err)
	}
	return nil
}

// DeleteConfig deletes the config document of the given kind and id. Deleting
// a document that does not exist is not an error. It returns once the
// deletion is on disk.
func (db *DB) DeleteConfig(kind, id string) error {
	c := ConfigChange{Kind: kind, ID: id}
	if err := c.validate(); err != nil {
		return fmt.Errorf("delete config %s/%s: %w", kind, id, err)
	}
	if err := db.applyConfig([]ConfigChange{c}); err != nil {
		return fmt.Errorf("delete config %s/%s: %w", kind, id, err)
	}
	return nil
}

// ApplyConfig applies changes in one transaction: either all of them are
// stored or, if it returns an error, none is. Changes are applied in order,
// so a later change to the same document wins. It returns once the changes
// are on disk.
//
// The total size of one call is limited to about 600 KB (Badger's batch size
// for these options); a larger set of changes fails and changes nothing.
func (db *DB) ApplyConfig(changes []ConfigChange) error {
	for i, c := range changes {
		if err := c.validate(); err != nil {
			return fmt.Errorf("apply config: change %d (%s/%s): %w", i, c.Kind, c.ID, err)
		}
	}
	if err := db.applyConfig(changes); err != nil {
		return fmt.Errorf("apply config: %w", err)
	}
	return nil
}

// applyConfig writes validated changes in one synced transaction.
func (db *DB) applyConfig(changes []ConfigChange) error {
	if len(changes) == 0 {
		return nil
	}
	return db.write(true, func(txn *badger.Txn) error {
		for _, c := range changes {
			key := configKey(c.Kind, c.ID)
			var err error
			if c.Data == nil {
				err = txn.Delete(key)
			} else {
				err = txn.Set(key, bytes.Clone(c.Data))
			}
			if errors.Is(err, badger.ErrTxnTooBig) {
				return fmt.Errorf("%w: %d changes are too large for one transaction: split them", ErrInvalid, len(changes))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Config returns every config document of the given kind, by id. The map is
// empty, not nil, when there is none; the caller owns the returned slices.
func (db *DB) Config(kind string) (map[string][]byte, error) {
	if err := validateKind(kind); err != nil {
		return nil, fmt.Errorf("read config %s: %w", kind, err)
	}
	prefix := configKey(kind, "")
	docs := make(map[string][]byte)
	err := db.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			data, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			docs[string(item.Key()[len(prefix):])] = data
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", kind, err)
	}
	return docs, nil
}

func (c ConfigChange) validate() error {
	if err := validateKind(c.Kind); err != nil {
		return err
	}
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: empty config id", ErrInvalid)
	case len(c.ID) > maxIDLen:
		return fmt.Errorf("%w: config id longer than %d bytes", ErrInvalid, maxIDLen)
	case strings.ContainsRune(c.ID, 0):
		return fmt.Errorf("%w: config id %q contains NUL", ErrInvalid, c.ID)
	case c.Data == nil:
		return nil
	case len(c.Data) > MaxValueSize:
		return fmt.Errorf("%w: document is %d bytes, more than %d", ErrInvalid, len(c.Data), MaxValueSize)
	case !json.Valid(c.Data):
		return fmt.Errorf("%w: document is not valid JSON", ErrInvalid)
	}
	return nil
}

func validateKind(kind string) error {
	switch {
	case kind == "":
		return fmt.Errorf("%w: empty config kind", ErrInvalid)
	case len(kind) > maxKindLen:
		return fmt.Errorf("%w: config kind longer than %d bytes", ErrInvalid, maxKindLen)
	case strings.ContainsAny(kind, "/\x00"):
		return fmt.Errorf("%w: config kind %q contains / or NUL", ErrInvalid, kind)
	}
	return nil
}

func configKey(kind, id string) []byte {
	return []byte(configPrefix + kind + "/" + id)
}
