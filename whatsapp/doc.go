// Package whatsapp speaks Meta's WhatsApp Cloud API: the webhook wire format
// (parsing and the X-Hub-Signature-256 check), the outbound message shapes with
// Meta's limits, the Graph API client and the classification of its errors.
//
// It holds no state and knows nothing of SQL or of sendbox's HTTP server: the
// inbox, the sender and the simulator build on it. The reference for every
// field and code is docs/whatsapp-cloud-api.md in the shared docs.
package whatsapp
