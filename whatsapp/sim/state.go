package sim

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// stateVersion is bumped when the state file's shape changes incompatibly.
const stateVersion = 1

// maxSavedMessages bounds the messages saved per chat: the file is rewritten
// whole, at most once a second, so it must stay small even under load.
const maxSavedMessages = 50

// stateFile is what Options.StateFile holds.
type stateFile struct {
	Version     int              `json:"version"`
	Chats       []savedChat      `json:"chats"`
	Windows     map[string]int64 `json:"windows"` // chat key → unix seconds of the last inbound message
	Unreachable []string         `json:"unreachable,omitempty"`
	savedTemplates
}

// savedChat is one chat in the state file.
type savedChat struct {
	Key        string         `json:"key"`
	WaID       string         `json:"wa_id,omitempty"`
	UserID     string         `json:"user_id,omitempty"`
	Name       string         `json:"name,omitempty"`
	LastActive time.Time      `json:"last_active"`
	Messages   []PhoneMessage `json:"messages"`
}

// load reads the state file, if there is one. Called by New only.
func (s *Simulator) load() error {
	b, err := os.ReadFile(s.opts.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	if st.Version != stateVersion {
		return errors.New("unknown state file version")
	}
	for _, sc := range st.Chats {
		if sc.Key == "" {
			continue
		}
		c := &chat{key: sc.Key, waID: sc.WaID, userID: sc.UserID, name: sc.Name, lastActive: sc.LastActive}
		s.chats[c.key] = c
		for _, pm := range sc.Messages {
			m := &phoneMsg{PhoneMessage: pm, reaction: pm.Type == "reaction"}
			if pm.Direction == DirectionOut {
				m.stage = max(slices.Index(stageNames[:], pm.Status), stageAccepted)
				if isPhone(c.key) {
					m.ev.recipientID = c.key
				} else {
					m.ev.recipientUserID = c.key
				}
			}
			s.appendMsg(c, m)
		}
	}
	for k, v := range st.Windows {
		s.windows[k] = v
	}
	for _, k := range st.Unreachable {
		s.unreachable[k] = true
	}
	s.loadTemplates(st.savedTemplates)
	s.dirty = false
	return nil
}

// snapshot copies the state to save. Called with s.mu held; the encoding
// and the write happen after it is released.
func (s *Simulator) snapshot(now time.Time) stateFile {
	s.pruneWindows(now) // closed windows need not be saved
	st := stateFile{Version: stateVersion, Windows: maps.Clone(s.windows)}
	for k := range s.unreachable {
		st.Unreachable = append(st.Unreachable, k)
	}
	slices.Sort(st.Unreachable)
	for _, c := range s.chats {
		msgs := c.msgs[max(0, len(c.msgs)-maxSavedMessages):]
		sc := savedChat{Key: c.key, WaID: c.waID, UserID: c.userID, Name: c.name, LastActive: c.lastActive,
			Messages: make([]PhoneMessage, len(msgs))}
		for i, m := range msgs {
			sc.Messages[i] = m.PhoneMessage
		}
		st.Chats = append(st.Chats, sc)
	}
	slices.SortFunc(st.Chats, func(a, b savedChat) int { return b.LastActive.Compare(a.LastActive) })
	return st
}

// save writes the state file atomically (temporary file, then rename).
func (s *Simulator) save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	now := s.now()
	s.mu.Lock()
	st := s.snapshot(now)
	s.dirty = false
	s.mu.Unlock()
	st.savedTemplates = s.saveTemplates()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.opts.StateFile)
	f, err := os.CreateTemp(dir, filepath.Base(s.opts.StateFile)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), s.opts.StateFile); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// saveLoop saves the state at most once a second while it changes, and
// less often if a save is slow, so that persistence never dominates a busy
// simulator.
func (s *Simulator) saveLoop() {
	defer s.wg.Done()
	wait := time.Second
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		dirty := s.dirty
		s.mu.Unlock()
		wait = time.Second
		if dirty {
			start := time.Now()
			if err := s.save(); err != nil {
				s.log.Warn("save simulator state", slog.String("file", s.opts.StateFile), slog.Any("err", err))
			}
			wait = max(wait, 10*time.Since(start))
		}
		t.Reset(wait)
	}
}
