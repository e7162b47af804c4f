package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// What ties campaigns to the rest: a business event converts the
// recipients of the campaigns that count it (in the event's own
// transaction, once per event key), and an opt-out that follows a
// campaign's message is attributed to that campaign in the ledger record
// itself and on the recipient.

// migrateV21 gives each recipient the time its contact opted out within the
// attribution window of the campaign's message (the campaign's opt-out
// count reads it), and turns the audiences of campaigns made before
// segments (a tag) into segments with the rule "tag has ...".
func migrateV21(ctx context.Context, tx *sql.Tx) error {
	for _, st := range []string{
		`ALTER TABLE campaign_recipients ADD COLUMN opted_out_at INTEGER`,
		`CREATE INDEX campaign_recipients_opted_out ON campaign_recipients(campaign_id) WHERE opted_out_at IS NOT NULL`,
	} {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, json_extract(audience, '$.tag') FROM campaigns
		WHERE json_valid(audience) AND COALESCE(json_extract(audience, '$.tag'), '') != ''
		AND COALESCE(json_extract(audience, '$.segment_id'), 0) = 0`)
	if err != nil {
		return err
	}
	type tagged struct {
		id  int64
		tag string
	}
	var all []tagged
	for rows.Next() {
		var c tagged
		if err := rows.Scan(&c.id, &c.tag); err != nil {
			rows.Close()
			return err
		}
		all = append(all, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	nowMS := time.Now().UnixMilli()
	for _, c := range all {
		rule, _ := json.Marshal(SegmentRule{Group: GroupAnd, Rules: []SegmentRule{{Field: FieldTag, Op: "has", Value: c.tag}}})
		name := "Tag: " + c.tag
		var seg int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM segments WHERE name = ?`, name).Scan(&seg)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRowContext(ctx, `INSERT INTO segments (name, rule, kind, created_at, updated_at) VALUES (?, ?, 'dynamic', ?, ?)
				RETURNING id`, name, string(rule), nowMS, nowMS).Scan(&seg)
		}
		if err != nil {
			return fmt.Errorf("segment for the tag %q: %w", c.tag, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET audience = json_object('segment_id', ?) WHERE id = ?`, seg, c.id); err != nil {
			return err
		}
	}
	return nil
}

// campaignConversion marks converted the contact's recipients of the
// campaigns that count event as a conversion (settings.conversion_event)
// and sent to them within their window before at (settings.conversion_hours,
// 72 by default). Called in the transaction that keeps the event, only
// when it is new: an event's key converts once.
func (t *wtx) campaignConversion(contactID int64, event string, at time.Time) (int, error) {
	r, err := t.exec(`UPDATE campaign_recipients SET converted_at = ?1, state = CASE WHEN state IN ('sent', 'delivered', 'read', 'replied')
		THEN 'converted' ELSE state END
		WHERE contact_id = ?2 AND sent_at IS NOT NULL AND sent_at <= ?1 AND converted_at IS NULL
		AND state IN ('sent', 'delivered', 'read', 'replied')
		AND campaign_id IN (SELECT id FROM campaigns WHERE json_extract(settings, '$.conversion_event') = ?3)
		AND sent_at > ?1 - 3600000 * (SELECT COALESCE(NULLIF(json_extract(settings, '$.conversion_hours'), 0), 72)
			FROM campaigns WHERE id = campaign_id)`,
		at.UnixMilli(), contactID, event)
	if err != nil {
		return 0, fmt.Errorf("campaign conversion %s: %w", event, err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

// attributable says whether an opt-out from this source is the customer's
// answer to what they received, so a campaign's message may have caused
// it: a keyword they wrote, Meta's preferences, Meta's 131050. A person or
// an integration setting it is not.
func attributable(e *ConsentEntry) bool {
	if e.Status != ConsentOptedOut || e.Purpose != PurposeMarketing || e.Pending {
		return false
	}
	switch e.Source {
	case ConsentSourceKeyword, ConsentSourceLink, ConsentSourcePreferences, ConsentSourceMeta131050, ConsentSourceCampaignReply:
		return true
	}
	return false
}

// optOutCampaign finds the campaign an opt-out at at follows: the latest
// campaign message to the contact within AttributionWindow before it (a
// message Meta refused with 131050 counts from when it was queued). It
// returns the recipient, the campaign and its name; 0 when none.
func (t *wtx) optOutCampaign(contactID int64, at time.Time) (recipient, campaign int64, name string, err error) {
	// Meta stamps its webhooks in whole seconds: a stop in the second of
	// the send is still after it.
	atMS := at.UnixMilli() + 999
	// Two lookups that each use an index (the recipients sent to the
	// contact by send time; the contact's messages), as it runs in the
	// writer's transaction of every opt-out.
	err = t.queryRow(`SELECT x.id, x.campaign_id, c.name FROM (
			SELECT r.id, r.campaign_id, r.sent_at AS at FROM campaign_recipients r
			WHERE r.contact_id = ?1 AND r.sent_at IS NOT NULL AND r.sent_at > ?2 AND r.sent_at <= ?3
			UNION ALL
			SELECT r.id, r.campaign_id, m.sent_at FROM messages m JOIN campaign_recipients r ON r.message_id = m.id
			WHERE m.contact_id = ?1 AND m.direction = 'outbound' AND m.sent_at > ?2 AND m.sent_at <= ?3 AND r.sent_at IS NULL
		) x JOIN campaigns c ON c.id = x.campaign_id ORDER BY x.at DESC, x.id DESC LIMIT 1`,
		contactID, at.Add(-AttributionWindow).UnixMilli(), atMS).Scan(&recipient, &campaign, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, "", nil
	}
	return recipient, campaign, name, err
}

// attributeOptOut names, in an opt-out's ledger entry, the campaign whose
// message it follows (proof campaign_id and campaign; a keyword becomes a
// campaign_reply), and returns the recipient to mark once the record
// applies (0: none).
func (t *wtx) attributeOptOut(e *ConsentEntry) (int64, error) {
	if !attributable(e) {
		return 0, nil
	}
	at := e.At
	if at.IsZero() {
		at = t.now
	}
	rid, cid, name, err := t.optOutCampaign(e.ContactID, at)
	if err != nil || rid == 0 {
		return 0, err
	}
	proof := make(map[string]any, len(e.Proof)+3)
	for k, v := range e.Proof {
		proof[k] = v
	}
	proof["campaign_id"], proof["campaign"], proof["campaign_recipient_id"] = cid, name, rid
	e.Proof = proof
	if e.Source == ConsentSourceKeyword {
		proof["keyword_source"] = ConsentSourceKeyword
		e.Source = ConsentSourceCampaignReply
	}
	return rid, nil
}

// markOptedOut records on a recipient that its contact opted out after
// its message (the first time only).
func (t *wtx) markOptedOut(recipientID int64, at time.Time) error {
	_, err := t.exec(`UPDATE campaign_recipients SET opted_out_at = COALESCE(opted_out_at, ?) WHERE id = ?`, at.UnixMilli(), recipientID)
	return err
}
