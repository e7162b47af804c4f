// Package events is sendbox's catalogue of what travels on the broker: the
// streams, the subjects, the domain event types and their payload, and the
// names under which the webhook log parks what it could not store.
//
// It is a leaf: it imports the standard library only, so that every package,
// the store included, may name an event without importing the broker. The
// values are on the wire and in existing data (stream names, subjects, the
// types inside stored outbox rows and in the EVENTS stream, the fields of the
// webhook log): a name here may change, its value never.
package events

import (
	"slices"
	"time"
)

// Streams. Each holds the subjects under one prefix (SubjectsInbound…).
const (
	// StreamInbound holds raw, signature-checked webhook bodies until ingested.
	StreamInbound = "INBOUND"
	// StreamOutbound holds messages waiting for the sender.
	StreamOutbound = "OUTBOUND"
	// StreamEvents holds domain events for every interested consumer.
	StreamEvents = "EVENTS"
	// StreamJobs holds background jobs: media downloads and assistant turns.
	StreamJobs = "JOBS"
)

// Streams returns every stream, in the order they are created.
func Streams() []string { return []string{StreamInbound, StreamOutbound, StreamEvents, StreamJobs} }

// The subjects each stream is created with.
const (
	SubjectsInbound  = "inbound.>"
	SubjectsOutbound = "outbound.>"
	SubjectsEvents   = SubjectEventPrefix + ">"
	SubjectsJobs     = "jobs.>"
)

// Subjects of the work queues.
const (
	// SubjectWebhook carries one webhook body (INBOUND).
	SubjectWebhook = "inbound.webhook"
	// SubjectSend carries an outbound message of the transactional lane to
	// the sender (OUTBOUND). It is the subject every send had before lanes,
	// so that jobs queued by an older sendbox are still delivered, and in
	// the same lane they would be given now. See SendSubject.
	SubjectSend = "outbound.send"
	// SubjectSendPerson carries a message a person wrote (OUTBOUND).
	SubjectSendPerson = "outbound.send.person"
	// SubjectSendBulk carries a campaign's message (OUTBOUND).
	SubjectSendBulk = "outbound.send.bulk"
	// SubjectMediaDownload carries a job to fetch inbound media (JOBS).
	SubjectMediaDownload = "jobs.media.download"
	// SubjectAITurn carries the customer messages the assistant is to answer (JOBS).
	SubjectAITurn = "jobs.ai.turn"
	// SubjectFlowHTTP carries a flow run's HTTP request step (JOBS).
	SubjectFlowHTTP = "jobs.flow.http"
	// SubjectFlowAI carries a flow run's AI answer step (JOBS).
	SubjectFlowAI = "jobs.flow.ai"
	// SubjectFlowSchedule carries one occurrence of a flow's schedule
	// trigger: the runs of its audience to start (JOBS).
	SubjectFlowSchedule = "jobs.flow.schedule"

	// JobMediaDownload is the Type of a media download job, an Event
	// carrying the message id.
	JobMediaDownload = "media.download"
	// JobSend is the Type of a send job, an Event carrying the message id.
	JobSend = "send"
)

// Sending lanes. Each has its own subject and its own consumer, so that a
// person's reply never waits behind a campaign's queue to reach the sender,
// which serves them in this order: person, then transactional (the
// assistant, order updates, reminders), then bulk.
const (
	LanePerson        = "person"
	LaneTransactional = "transactional"
	LaneBulk          = "bulk"
)

// Lanes returns the lanes, highest priority first.
func Lanes() []string { return []string{LanePerson, LaneTransactional, LaneBulk} }

// ValidLane reports whether lane is one of Lanes.
func ValidLane(lane string) bool {
	return slices.Contains(Lanes(), lane)
}

// SendSubject returns the subject of a lane's send jobs; an unknown lane
// is transactional.
func SendSubject(lane string) string {
	switch lane {
	case LanePerson:
		return SubjectSendPerson
	case LaneBulk:
		return SubjectSendBulk
	}
	return SubjectSend
}

// SubjectEventPrefix prefixes every domain event's subject: an event of
// type t is published on SubjectEventPrefix + t (see Subject).
const SubjectEventPrefix = "events."

// Subject returns the subject an event of type t is published on.
func Subject(t string) string { return SubjectEventPrefix + t }

// Subject filters for the events about one kind of row (SubjectsEvents takes them all).
const (
	SubjectMessageEvents      = SubjectEventPrefix + "message.>"
	SubjectConversationEvents = SubjectEventPrefix + "conversation.>"
	SubjectContactEvents      = SubjectEventPrefix + "contact.>"
	SubjectKBEvents           = SubjectEventPrefix + "kb.>"
)

// Event types: "<row>.<what happened>".
const (
	MessageReceived     = "message.received" // an inbound message was stored
	MessageQueued       = "message.queued"   // an outbound message waits for the sender
	MessageEchoed       = "message.echoed"   // the business sent a message from the WhatsApp Business app
	MessageStatus       = "message.status"   // a message's state moved (Status: the new state)
	MessageUpdated      = "message.updated"  // edited, revoked, or its media stored (Status: ChangeMedia)
	MessageDeleted      = "message.deleted"  // erased
	ConversationCreated = "conversation.created"
	ConversationUpdated = "conversation.updated" // Status: one of the Change names
	ContactCreated      = "contact.created"
	ContactUpdated      = "contact.updated" // Status: ChangeConsent, ConsentStopped, ConsentResumed or "" (details)
	ContactErased       = "contact.erased"
	KBChanged           = "kb.changed"       // a knowledge-base document added, changed or removed
	FlowRunStarted      = "flow.run.started" // a contact entered a flow (Data: DataFlow, DataRun, DataVersion)
	FlowRunEnded        = "flow.run.ended"   // a run ended (Status: its outcome)
)

// What changed, in an updated event's Status. A conversation's changes are
// also the kinds of its timeline rows.
const (
	ChangeNote      = "note"           // a private note added
	ChangeAssigned  = "assigned"       // given to a person, or unassigned
	ChangeTeam      = "team"           // given to a team, or none
	ChangeStatus    = "status"         // opened, resolved, pending or snoozed
	ChangeLabels    = "labels"         // labels set
	ChangeLanguage  = "language"       // the language to write in chosen
	ChangeBot       = "bot"            // the assistant switched on, off, paused or resumed
	ChangeEscalated = "escalated"      // the policy handed the conversation to a person
	ChangeAI        = "ai"             // the assistant recorded a turn (the thread shows its sources)
	ChangeHandoff   = "handoff"        // the assistant asked a person to take over
	ChangeUnurgent  = "urgent_cleared" // a person took the urgent flag off
	ChangeWoke      = "woke"           // a snooze ended: reopened
	ChangeRead      = "read"           // the unread count went to zero
	ChangeConsent   = "consent"        // a contact's marketing consent set (panel, API, Meta's 131050)
	ChangeMedia     = "media"          // a message's media downloaded (or failed for good)
	ChangeRouted    = "routed"         // who answers the customer changed (inbox.Router)

	// ChangeLegacy is the kind of a timeline row written before rows were
	// structured: its English sentence is in its body, the kind it had in
	// its data (DataOldKind). No event has it.
	ChangeLegacy = "legacy"

	// ConsentStopped and ConsentResumed are the changes of a contact
	// whose marketing preference came from WhatsApp (stop or resume).
	ConsentStopped = "consent_stop"
	ConsentResumed = "consent_resume"
)

// Event is a domain event as it travels on the EVENTS stream (JSON).
// Consumers (search, live updates, the assistant, alerts) look the rows up
// by these ids.
type Event struct {
	Type           string `json:"type"`
	MessageID      int64  `json:"message_id,omitempty"`
	ConversationID int64  `json:"conversation_id,omitempty"`
	ContactID      int64  `json:"contact_id,omitempty"`
	WAMID          string `json:"wamid,omitempty"`
	// Status is what changed: a message's new state in message.status, a
	// Change name in the updated events.
	Status string    `json:"status,omitempty"`
	DocID  int64     `json:"doc_id,omitempty"` // a knowledge-base document
	At     time.Time `json:"at"`
	// Actor is who made the change (see ActorFrom); the store sets it on
	// every domain event. Jobs that reuse this shape carry none.
	Actor Actor `json:"actor,omitzero"`
	// Data holds the new values where the change has them: the assignee,
	// the status, the labels… (keys named in the Data* constants).
	Data map[string]any `json:"data,omitempty"`
}

// Keys of Event.Data, and of a timeline row's data, which holds the same.
// The names beside the ids are those at the time, for the timeline to read
// as it was.
const (
	DataAssignee     = "assignee_id"   // ChangeAssigned: the user, 0 for none
	DataAssigneeName = "assignee_name" // ChangeAssigned: the user's name
	DataTeam         = "team_id"       // ChangeTeam: the team, 0 for none
	DataTeamName     = "team_name"     // ChangeTeam: the team's name
	DataStatus       = "status"        // ChangeStatus, ChangeWoke: open, pending, resolved or snoozed
	DataSnoozedUntil = "snoozed_until" // ChangeStatus to snoozed: when it wakes
	DataLabels       = "label_ids"     // ChangeLabels: the labels now on it
	DataLabelNames   = "label_names"   // ChangeLabels: their names
	DataLanguage     = "language"      // ChangeLanguage: the language chosen, "" for detection's
	DataBot          = "bot"           // ChangeBot: on, off or paused
	DataCategory     = "category"      // ChangeEscalated: the policy category
	DataConsent      = "consent"       // ChangeConsent, ConsentStopped, ConsentResumed: the new state
	DataSource       = "source"        // ChangeConsent: where the consent came from
	DataRoutedTo     = "routed_to"     // ChangeRouted: flow, assistant, person or system
	// DataReason is why, as a code: ChangeRouted's (inbox.Reason*), or
	// ChangeBot's when the assistant paused by itself (BotPaused*).
	DataReason = "reason"
	// DataDetail adds to the change, in the words of whoever made it:
	// ChangeRouted's detail, the words ChangeEscalated matched, why a
	// ChangeHandoff happened.
	DataDetail = "detail"
	// DataFlow, DataRun and DataVersion name a flow run in the flow.run events.
	DataFlow    = "flow_id"
	DataRun     = "run_id"
	DataVersion = "version"
	// DataOldKind is the kind a ChangeLegacy row had.
	DataOldKind = "kind"
	// DataTagsAdded, DataTagsRemoved and DataAttributes say what a
	// contact.updated event changed: the tags added and removed, and the
	// attributes set (name → new value, "" when removed). A change a
	// flow run made also names the run (DataRun) and its flow (DataFlow).
	DataTagsAdded   = "tags_added"
	DataTagsRemoved = "tags_removed"
	DataAttributes  = "attributes"
)

// Why the assistant paused without being switched, in a ChangeBot's DataReason.
const (
	BotPausedAgentReplied = "agent_replied" // a person replied to the customer
	BotPausedBefore       = "paused_before" // a person took over this customer's previous conversation
	// BotPausedBusinessApp: the business replied from the WhatsApp Business app.
	BotPausedBusinessApp = "business_app_replied"
)

// Publication is one item of the store's transactional outbox: what the
// relay publishes, and the id the broker deduplicates it by.
type Publication struct {
	ID      int64 // the outbox row, in order
	Subject string
	MsgID   string
	Payload []byte
}

// Fields of the webhook log (store.WebhookEvent) that sendbox writes itself,
// beside the fields Meta sends: what could not be stored is parked under
// them, the reason as the entry's type.
const (
	FieldUnstoredMessage = "sendbox.unstored_message"
	FieldUnstoredStatus  = "sendbox.unstored_status"
	FieldUnstoredEvent   = "sendbox.unstored_event"
	// FieldUnstoredEcho is a message sent from the WhatsApp Business app
	// that could not be stored (no id, no customer, or refused).
	FieldUnstoredEcho = "sendbox.unstored_echo"
	// FieldUnparsedWebhook is a body that is JSON but not a WhatsApp webhook.
	FieldUnparsedWebhook = "sendbox.unparsed_webhook"
	// FieldUnattributedMessage is a message with neither a number nor a user id.
	FieldUnattributedMessage = "messages.unattributed"
)
