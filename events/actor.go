package events

import "context"

// Actor is who made a change: a person in the panel, an API key, the
// assistant, a flow, or sendbox itself. Every domain event carries one, so
// that KPIs and the audit log can later be built from events alone.
type Actor struct {
	Kind string `json:"kind"`           // one of the Actor* kinds
	ID   int64  `json:"id,omitempty"`   // the user's, API key's or flow's id
	Name string `json:"name,omitempty"` // its name at the time, or the system job's
}

// Kinds of actor.
const (
	ActorUser      = "user"      // a person signed in to the panel
	ActorAPIKey    = "api_key"   // an integration, by its API key
	ActorAssistant = "assistant" // the AI assistant
	ActorFlow      = "flow"      // an automation flow
	ActorSystem    = "system"    // sendbox itself: webhooks, the sender, timers, jobs
)

// User is a person in the panel.
func User(id int64, name string) Actor { return Actor{Kind: ActorUser, ID: id, Name: name} }

// APIKey is an integration calling the REST API.
func APIKey(id int64, name string) Actor { return Actor{Kind: ActorAPIKey, ID: id, Name: name} }

// Assistant is the AI assistant.
func Assistant() Actor { return Actor{Kind: ActorAssistant} }

// Flow is an automation flow.
func Flow(id int64, name string) Actor { return Actor{Kind: ActorFlow, ID: id, Name: name} }

// System is sendbox itself; job names the part that acted ("ingest",
// "sender", "snooze"…), or is "".
func System(job string) Actor { return Actor{Kind: ActorSystem, Name: job} }

type actorKey struct{}

// WithActor returns ctx carrying a, for the store to record on the events
// it writes under ctx. The fronts set it once per request (the panel's
// signed-in user, the API's key) and the assistant and jobs at their entry
// points, so the domain code between needs no parameter for it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries. A context without one is
// sendbox's own work: everything a person, an integration, the assistant or
// a flow does passes through a front or entry point that sets its actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System("")
}
