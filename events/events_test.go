package events

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestWireValues pins the catalogue's values: they name existing streams and
// consumers' filters, and are stored in outbox rows, the EVENTS stream, the
// webhook log and the timeline. A renamed constant is fine; a changed value
// strands data written by an earlier version.
func TestWireValues(t *testing.T) {
	for got, want := range map[string]string{
		StreamInbound: "INBOUND", StreamOutbound: "OUTBOUND", StreamEvents: "EVENTS", StreamJobs: "JOBS",
		SubjectsInbound: "inbound.>", SubjectsOutbound: "outbound.>", SubjectsEvents: "events.>", SubjectsJobs: "jobs.>",
		SubjectWebhook: "inbound.webhook", SubjectSend: "outbound.send", SubjectSendPerson: "outbound.send.person",
		SubjectSendBulk: "outbound.send.bulk", LanePerson: "person", LaneTransactional: "transactional", LaneBulk: "bulk",
		SendSubject(LanePerson): "outbound.send.person", SendSubject(LaneTransactional): "outbound.send",
		SendSubject(LaneBulk): "outbound.send.bulk", SendSubject(""): "outbound.send", SubjectMediaDownload: "jobs.media.download",
		SubjectAITurn: "jobs.ai.turn", JobMediaDownload: "media.download", JobSend: "send",
		SubjectMessageEvents: "events.message.>", SubjectConversationEvents: "events.conversation.>",
		SubjectContactEvents: "events.contact.>", SubjectKBEvents: "events.kb.>",
		Subject(MessageReceived): "events.message.received", MessageQueued: "message.queued",
		MessageStatus: "message.status", MessageUpdated: "message.updated", MessageDeleted: "message.deleted",
		ConversationCreated: "conversation.created", ConversationUpdated: "conversation.updated",
		ContactCreated: "contact.created", ContactUpdated: "contact.updated", ContactErased: "contact.erased", KBChanged: "kb.changed",
		ChangeNote: "note", ChangeAssigned: "assigned", ChangeTeam: "team", ChangeStatus: "status", ChangeLabels: "labels",
		ChangeLanguage: "language", ChangeBot: "bot", ChangeEscalated: "escalated", ChangeAI: "ai", ChangeHandoff: "handoff",
		ChangeUnurgent: "urgent_cleared", ChangeWoke: "woke", ChangeRead: "read", ChangeConsent: "consent",
		ChangeMedia: "media", ChangeRouted: "routed", ChangeLegacy: "legacy", ConsentStopped: "consent_stop", ConsentResumed: "consent_resume",
		FieldUnstoredMessage: "sendbox.unstored_message", FieldUnstoredStatus: "sendbox.unstored_status",
		FieldUnstoredEvent: "sendbox.unstored_event", FieldUnstoredEcho: "sendbox.unstored_echo", MessageEchoed: "message.echoed", FieldUnparsedWebhook: "sendbox.unparsed_webhook",
		FieldUnattributedMessage: "messages.unattributed",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
	// The keys of data are stored in timeline rows too (some share a value
	// with a name above, hence pairs).
	for _, p := range [][2]string{{DataAssignee, "assignee_id"}, {DataAssigneeName, "assignee_name"}, {DataTeam, "team_id"},
		{DataTeamName, "team_name"}, {DataStatus, "status"}, {DataSnoozedUntil, "snoozed_until"}, {DataLabels, "label_ids"},
		{DataLabelNames, "label_names"}, {DataLanguage, "language"}, {DataBot, "bot"}, {DataCategory, "category"},
		{DataConsent, "consent"}, {DataSource, "source"}, {DataRoutedTo, "routed_to"}, {DataReason, "reason"},
		{DataDetail, "detail"}, {DataOldKind, "kind"}, {BotPausedAgentReplied, "agent_replied"}, {BotPausedBefore, "paused_before"}} {
		if p[0] != p[1] {
			t.Errorf("%q, want %q", p[0], p[1])
		}
	}
}

// TestEventJSON pins the payload's field names, which consumers of an
// earlier version read from the EVENTS stream, and those it gained since.
func TestEventJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := json.Marshal(Event{Type: MessageStatus, MessageID: 1, ConversationID: 2, ContactID: 3, WAMID: "wamid.X",
		Status: "read", DocID: 4, At: at})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"message.status","message_id":1,"conversation_id":2,"contact_id":3,"wamid":"wamid.X","status":"read",` +
		`"doc_id":4,"at":"2026-01-02T03:04:05Z"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	b, err = json.Marshal(Event{Type: ConversationUpdated, ConversationID: 2, Status: ChangeAssigned, At: at,
		Actor: User(5, "Ann"), Data: map[string]any{DataAssignee: 6}})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"type":"conversation.updated","conversation_id":2,"status":"assigned","at":"2026-01-02T03:04:05Z",` +
		`"actor":{"kind":"user","id":5,"name":"Ann"},"data":{"assignee_id":6}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// TestActorFrom: a context without an actor is sendbox's own work.
func TestActorFrom(t *testing.T) {
	bg := context.Background()
	if a := ActorFrom(bg); a != System("") {
		t.Fatalf("no actor: %+v", a)
	}
	if a := ActorFrom(WithActor(bg, APIKey(3, "crm"))); a != (Actor{Kind: ActorAPIKey, ID: 3, Name: "crm"}) {
		t.Fatalf("api key: %+v", a)
	}
}
