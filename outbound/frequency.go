package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sendbox/store"
)

// FrequencyCap is the business's rule on how much marketing a customer
// gets: at most Count marketing templates in Days days, whoever sends them
// (campaigns, flows, the API). Every marketing template queued is counted
// (store's marketing sends); one that would go over is refused with a
// *ConsentError "capped". Count 0 is no cap. A campaign may set a stricter
// cap of its own.
type FrequencyCap struct {
	Count int `json:"count"`
	Days  int `json:"days"`
}

// SettingFrequencyCap is the settings key of the frequency cap.
const SettingFrequencyCap = "marketing.frequency_cap"

// RefusedCapped is the ConsentError code of a marketing template over the
// frequency cap.
const RefusedCapped = "capped"

// Validate names what is wrong with the cap in plain words.
func (f FrequencyCap) Validate() error {
	if f.Count < 0 || f.Count > 100 || f.Days < 0 || f.Days > 365 || (f.Count > 0) != (f.Days > 0) {
		return errors.New("frequency cap: a number of marketing messages (1 to 100) in a number of days (1 to 365), or 0 for no cap")
	}
	return nil
}

// LoadFrequencyCap returns the stored cap (none if not set).
func LoadFrequencyCap(ctx context.Context, st *store.Store) (FrequencyCap, error) {
	var f FrequencyCap
	v, err := st.Setting(ctx, SettingFrequencyCap)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return f, nil
	case err != nil:
		return f, err
	}
	if err := json.Unmarshal([]byte(v), &f); err != nil {
		return FrequencyCap{}, fmt.Errorf("stored frequency cap: %w", err)
	}
	return f, nil
}

// SaveFrequencyCap checks and stores the cap.
func SaveFrequencyCap(ctx context.Context, st *store.Store, f FrequencyCap) error {
	if err := f.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(f)
	return st.SetSetting(ctx, SettingFrequencyCap, string(b))
}

// checkCap refuses a marketing template to contact c when the business's
// frequency cap is reached. Only Prepare asks (not the send-time check:
// the message being sent is counted already).
func checkCap(ctx context.Context, st *store.Store, c *store.Contact, now time.Time) error {
	if c == nil {
		return nil
	}
	f, err := LoadFrequencyCap(ctx, st)
	if err != nil || f.Count == 0 {
		return err
	}
	n, err := st.MarketingSendsSince(ctx, c.ID, now.Add(-time.Duration(f.Days)*24*time.Hour))
	if err != nil {
		return err
	}
	if n >= f.Count {
		return &ConsentError{Code: RefusedCapped, Cap: f}
	}
	return nil
}
