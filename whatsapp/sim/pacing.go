package sim

// Pacing makes sends of a template answer with a message_status other
// than "accepted", as Meta does for templates under its pacing: it holds
// part of a new or changed marketing template's messages while it assesses
// the template's quality (held_for_quality_assessment), or answers paused.
// The messages still get their status webhooks as usual here.
type Pacing struct {
	Template string // the template's name; "" = any template
	Status   string // held_for_quality_assessment (default) or paused
	Count    int    // how many sends; 0 = 1
}

// InjectPacing makes the next p.Count sends of p.Template answer with
// p.Status; pacings are consumed in the order they were injected.
func (s *Simulator) InjectPacing(p Pacing) {
	if p.Status == "" {
		p.Status = "held_for_quality_assessment"
	}
	if p.Count <= 0 {
		p.Count = 1
	}
	s.mu.Lock()
	s.pacings = append(s.pacings, p)
	s.pacingN.Store(int32(len(s.pacings)))
	s.mu.Unlock()
}

// takePacing returns the message_status of a template's send: the first
// matching injected pacing's, else "accepted".
func (s *Simulator) takePacing(template string) string {
	if s.pacingN.Load() == 0 {
		return "accepted"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.pacings {
		p := &s.pacings[i]
		if p.Template != "" && p.Template != template {
			continue
		}
		out := p.Status
		if p.Count--; p.Count == 0 {
			s.pacings = append(s.pacings[:i], s.pacings[i+1:]...)
			s.pacingN.Store(int32(len(s.pacings)))
		}
		return out
	}
	return "accepted"
}
