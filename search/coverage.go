package search

// Coverage measures how much of a question a passage answers to: of the
// question's content words (stop words of the question's or the passage's
// language left out), how many the passage has, in any inflection or with
// a typo, as Highlight would mark them. The assistant uses it to judge whether a
// passage is a strong match: a score a rank alone cannot give.
func (x *Index) Coverage(question, text string) (matched, total int) {
	an := x.an.lang[x.Lang(text)]
	qan := x.an.lang[x.Lang(question)]
	toks := an.Analyze([]byte(text))
	have := make(map[string]bool, len(toks))
	for _, t := range toks {
		have[string(t.Term)] = true
	}
	seen := map[string]bool{}
	for _, c := range parseQuery(question) {
		if c.not || c.phrase {
			continue
		}
		if len(qan.Analyze([]byte(c.text))) == 0 {
			continue // a stop word in the question's language
		}
		qt := an.Analyze([]byte(c.text))
		if len(qt) != 1 {
			continue // a stop word in the passage's, or a code of several tokens
		}
		t := string(qt[0].Term)
		if seen[t] {
			continue
		}
		seen[t] = true
		total++
		if have[t] {
			matched++
			continue
		}
		if fz := fuzziness(c.text, t); fz > 0 {
			for h := range have {
				if withinEdits(h, t, fz) {
					matched++
					break
				}
			}
		}
	}
	return matched, total
}
