package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"sendbox/sendboxtest"
)

// TestInvalidUTF8KeepsAPIJSONValid: a webhook whose strings hold bytes that
// are not UTF-8 (JSON parsers accept them inside strings, and so does the
// signature) made the API answer with invalid JSON: the message's raw field
// and the event log's value were written out byte for byte.
func TestInvalidUTF8KeepsAPIJSONValid(t *testing.T) {
	a := sendboxtest.New(t)
	body := bytes.Replace(textWebhook("wamid.utf8", "393331234567", "caffè XX per favore", ""), []byte("XX"), []byte("\xff\xc3("), 1)
	event := []byte("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"200000000000001\",\"time\":1,\"changes\":[" +
		"{\"field\":\"message_template_status_update\",\"value\":{\"event\":\"REJECTED\",\"reason\":\"bad \xfe\xfd\"}}]}]}")
	for _, b := range [][]byte{body, event} {
		if utf8.Valid(b) || !json.Valid(b) {
			t.Fatal("the test webhooks should be JSON with invalid UTF-8")
		}
		if code, resp := a.PostWebhook(b); code != 200 {
			t.Fatalf("%d %s", code, resp)
		}
	}
	drained(t, a)
	valid := func(path string) []byte {
		t.Helper()
		code, b := a.Do("GET", path, nil)
		if code != 200 || !utf8.Valid(b) || !json.Valid(b) {
			t.Fatalf("GET %s: %d, not valid JSON: %q", path, code, b)
		}
		return b
	}
	msgs := valid("/api/v1/messages?direction=inbound")
	if !bytes.Contains(msgs, []byte(`"raw":`)) || !bytes.Contains(msgs, []byte("\uFFFD")) {
		t.Fatalf("the raw message is missing or was not sanitised: %s", msgs)
	}
	valid("/api/v1/conversations")
	if evs := valid("/api/v1/webhook-events"); !bytes.Contains(evs, []byte("bad \uFFFD")) {
		t.Fatalf("event log: %s", evs)
	}

	// A row stored by an earlier sendbox, before ingest replaced bad bytes.
	db, err := sql.Open("sqlite", "file:"+a.Store.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE messages SET raw = CAST(X'7B2274223A22FF227D' AS TEXT) WHERE wamid = 'wamid.utf8'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE webhook_events SET value = CAST(X'7B2274223A22FE227D' AS TEXT)`); err != nil {
		t.Fatal(err)
	}
	valid("/api/v1/messages?direction=inbound")
	valid("/api/v1/webhook-events")
}
