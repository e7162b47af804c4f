// Package search is sendbox's full-text index: messages, contacts and
// knowledge-base chunks in one bleve (scorch) index under the data folder.
//
// # Derived data
//
// SQLite holds every message; the index can always be rebuilt from it
// (Rebuild). So the index stores no text: only ids and the few values a Hit
// returns. Highlight re-analyzes the text the caller reads from SQLite, with
// the analysis indexing used, and returns byte offsets into it; Fragment cuts
// a snippet into plain and marked pieces for html/template.
//
// # Documents and fields
//
// Document ids are "m<id>", "c<id>" and "k<id>". A message has its text in
// exactly one of five fields, text_it, text_en, text_fr, text_es, text_de,
// chosen by a cheap language vote (lang.go; Options.DefaultLang when the
// message is too short to tell, e.g. "ok"). Each field has its language's
// analyzer: unicode tokenizer, lowercase, elision (it, fr), stop words,
// accent folding, a light stemmer (snowball for English), and for Italian
// and Spanish a rule that makes short plurals meet their singulars. KB chunks
// use kb_<lang> fields the same way. Contacts are language-neutral: name and
// ctext (username, email, tags, attribute values, notes) are lowercased and
// folded, not stemmed; the phone is kept as digits, forwards and reversed, so
// that both "+39 333" and "4567" are prefix queries.
//
// Folding is a token filter, not bleve's asciifolding char filter: a char
// filter rewrites the text before the tokenizer and shifts every offset after
// an accent. A token filter rewrites terms only.
//
// Filters and facets (status, direction, type, labels, day) share one keyword
// field of short codes with docvalues (facets.go); the date sort reads a
// 6-byte key (ts); the date range filter uses a datetime field without
// docvalues (at). Term vectors are kept on text fields because bleve's phrase
// search needs positions ("velluto verde" is not "verde velluto").
//
// # Queries
//
// Query.Q is parsed leniently (query.go): words (all must match), "phrases",
// prefix*, -excluded; the last word is also a prefix, as you type. Each
// clause is analyzed per language and the query is an OR over languages of
// an AND over clauses, so a stop word of one language does not block the
// others. Exact terms outrank typos (one edit from 5 runes of the analyzed
// term, two from 9; none for words with digits: plates, VINs, part numbers)
// and completions, which are read from the dictionaries (expand.go).
//
// # Generations, rebuild, concurrency
//
// Dir/CURRENT names the serving generation, Dir/gNNNNNN/ is its bleve index.
// Rebuild builds the next generation beside it from a Source while Search
// serves the current one and Apply keeps writing to it (and is recorded);
// the recorded batches are replayed into the new generation, which is merged
// to one segment, and CURRENT is swapped with Apply held off for the last
// replay. The old generation is closed after in-flight searches end, then
// removed.
//
// Search may run concurrently with anything. Apply calls are serialised.
// One Rebuild at a time; Close cancels it. Lock order: rebuildMu → applyMu →
// mu. Another process holding the index makes Open fail with ErrLocked after
// Options.LockTimeout.
//
// The corpus benchmark (bench_test.go) compares bleve with SQLite FTS5 on a
// generated inbox of 1M messages.
package search
