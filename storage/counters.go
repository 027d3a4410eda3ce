package storage

import (
	"encoding/json"
	"fmt"
	"strconv"

	badger "github.com/dgraph-io/badger/v4"
)

// counterPrefix keys a button's press counters: "n/DEVICE/BUTTON".
const counterPrefix = "n/"

// Counts are a button's press counters, the values of the <COUNTER> tags.
type Counts struct {
	All    int64 `json:"all"`
	Press  int64 `json:"press,omitempty"`
	Long   int64 `json:"long,omitempty"`
	Double int64 `json:"double,omitempty"`
}

func counterKey(device string, button int) []byte {
	return []byte(counterPrefix + device + "/" + strconv.Itoa(button))
}

// Counts returns a button's counters (zero for a button never pressed).
func (db *DB) Counts(device string, button int) (Counts, error) {
	var c Counts
	err := db.view(func(txn *badger.Txn) error {
		_, err := getJSON(txn, counterKey(device, button), &c)
		return err
	})
	if err != nil {
		return Counts{}, fmt.Errorf("read counters of %s button %d: %w", device, button, err)
	}
	return c, nil
}

// PutCounts stores a button's counters. Like PutAttempt it does not wait
// for the disk; the next durable write (the attempt's final record) carries
// it there. To store counters in the same transaction as a press's attempts,
// pass them to PutAttempts or PutAttemptsDurable as ButtonCounts instead.
func (db *DB) PutCounts(device string, button int, c Counts) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := db.write(false, func(txn *badger.Txn) error { return txn.Set(counterKey(device, button), data) }); err != nil {
		return fmt.Errorf("store counters of %s button %d: %w", device, button, err)
	}
	return nil
}
