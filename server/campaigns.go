package server

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"time"

	"sendbox/campaigns"
	"sendbox/store"
)

// The campaign API: create and edit drafts, the pre-launch check, launch,
// schedule, pause, resume, cancel, retry the failed, progress, recipients.

const maxCampaignBody = 1 << 20

// campaignError answers a campaign command's refusal: 422 with its code.
func (a *Server) campaignError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *campaigns.InputError
	if errors.As(err, &ie) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]any{"code": ie.Code,
			"message": ie.Message, "field": ie.Field}})
		return
	}
	a.notFoundOr(w, r, err, "campaign")
}

func (a *Server) handleListCampaigns(w http.ResponseWriter, r *http.Request) {
	cs, err := a.Store.Campaigns(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[store.Campaign]{Data: cs, Total: len(cs)})
}

func (a *Server) handleCreateCampaign(w http.ResponseWriter, r *http.Request) {
	var in campaigns.Input
	if !decodeJSON(w, r, maxCampaignBody, &in) {
		return
	}
	c, err := a.Campaigns.Create(r.Context(), in)
	if err != nil {
		a.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, one[*store.Campaign]{c})
}

func (a *Server) handleGetCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	c, err := a.Store.CampaignByID(r.Context(), id)
	if err != nil {
		a.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.Campaign]{c})
}

func (a *Server) handleUpdateCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in campaigns.Input
	if !decodeJSON(w, r, maxCampaignBody, &in) {
		return
	}
	c, err := a.Campaigns.Update(r.Context(), id, in)
	if err != nil {
		a.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.Campaign]{c})
}

func (a *Server) handleDeleteCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.Campaigns.Delete(r.Context(), id); err != nil {
		a.campaignError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Server) handleCheckCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	ck, err := a.Campaigns.Check(r.Context(), id)
	if err != nil {
		a.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*campaigns.Check]{ck})
}

// handleCampaignAction runs launch, schedule, pause, resume, unschedule
// and cancel.
func (a *Server) handleCampaignAction(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var c *store.Campaign
	var err error
	switch r.PathValue("action") {
	case "launch":
		c, err = a.Campaigns.Launch(r.Context(), id)
	case "schedule":
		var req struct {
			ScheduledAt time.Time `json:"scheduled_at"`
		}
		if !decodeJSON(w, r, 4096, &req) {
			return
		}
		if req.ScheduledAt.IsZero() {
			writeError(w, http.StatusUnprocessableEntity, "scheduled_at_required", "give scheduled_at, an RFC 3339 time with its offset")
			return
		}
		c, err = a.Campaigns.Schedule(r.Context(), id, req.ScheduledAt)
	case "unschedule":
		c, err = a.Campaigns.Unschedule(r.Context(), id)
	case "pause":
		c, err = a.Campaigns.Pause(r.Context(), id)
	case "resume":
		c, err = a.Campaigns.Resume(r.Context(), id)
	case "decide":
		c, err = a.Campaigns.DecideNow(r.Context(), id)
	case "cancel":
		c, err = a.Campaigns.Cancel(r.Context(), id)
	case "retry":
		n, err := a.Campaigns.Retry(r.Context(), id)
		if err != nil {
			a.campaignError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"retried": n})
		return
	default:
		writeError(w, http.StatusNotFound, "not_found", "no such campaign action")
		return
	}
	if err != nil {
		a.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.Campaign]{c})
}

func (a *Server) handleCampaignProgress(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if _, err := a.Store.CampaignByID(r.Context(), id); err != nil {
		a.campaignError(w, r, err)
		return
	}
	f, err := a.Store.CampaignProgress(r.Context(), id)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.CampaignFunnel]{f})
}

// handleCampaignRecipients lists recipients (state, variant, reason
// filters; after, limit), or all of them as CSV with format=csv.
func (a *Server) handleCampaignRecipients(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if _, err := a.Store.CampaignByID(r.Context(), id); err != nil {
		a.campaignError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.RecipientFilter{State: q.Get("state"), Variant: q.Get("variant"), Reason: q.Get("reason")}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "invalid_cursor", "after is a recipient id")
			return
		}
		f.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "invalid_limit", "limit is 1 to 1000")
			return
		}
		f.Limit = n
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(id, 10)+`-recipients.csv"`)
		w.Write([]byte("\xef\xbb\xbf")) // Excel reads UTF-8 with its BOM
		cw := csv.NewWriter(w)
		cw.Write([]string{"recipient_id", "contact_id", "wa_id", "name", "state", "variant", "reason", "error_code",
			"message_id", "sent_at", "delivered_at", "read_at", "replied_at", "clicked_at", "converted_at"})
		f.Limit = 1000
		for {
			rs, err := a.Store.CampaignRecipients(r.Context(), id, f)
			if err != nil || len(rs) == 0 {
				break
			}
			for _, x := range rs {
				code := ""
				if x.ErrorCode != 0 {
					code = strconv.Itoa(x.ErrorCode)
				}
				cw.Write([]string{strconv.FormatInt(x.ID, 10), strconv.FormatInt(x.ContactID, 10), x.WaID, x.Name, x.State,
					x.Variant, x.Reason, code, strconv.FormatInt(x.MessageID, 10), csvTime(x.SentAt), csvTime(x.DeliveredAt),
					csvTime(x.ReadAt), csvTime(x.RepliedAt), csvTime(x.ClickedAt), csvTime(x.ConvertedAt)})
			}
			f.After = rs[len(rs)-1].ID
		}
		cw.Flush()
		return
	}
	rs, err := a.Store.CampaignRecipients(r.Context(), id, f)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	next := ""
	if f.Limit > 0 && len(rs) == f.Limit || f.Limit == 0 && len(rs) == 100 {
		next = strconv.FormatInt(rs[len(rs)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": rs, "next_cursor": next})
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
