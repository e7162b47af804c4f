package whatsapp

// rankFailed is above every delivery status: failed is terminal.
const rankFailed = 100

// StatusRank orders message statuses: sent 1 < delivered 2 < read 3 <
// played 4, failed 100 (terminal), anything else (including "" and
// statuses Meta may add later) 0. Statuses are compared exactly as Meta
// sends them, in lower case.
func StatusRank(status string) int {
	switch status {
	case StatusSent:
		return 1
	case StatusDelivered:
		return 2
	case StatusRead:
		return 3
	case StatusPlayed:
		return 4
	case StatusFailed:
		return rankFailed
	}
	return 0
}

// StatusAdvances reports whether a status webhook saying next should replace
// the stored status current. Meta neither orders nor deduplicates status
// webhooks ("delivered" may arrive after "read", or twice), so the stored
// status only moves forward:
//
//   - nothing replaces failed, which is terminal (a duplicate failed neither);
//   - failed replaces any other status, since a late failure is still the
//     message's fate;
//   - otherwise next must rank strictly higher (an unknown next ranks 0 and
//     never advances; any known status advances from "" or an unknown one).
func StatusAdvances(current, next string) bool {
	if current == StatusFailed {
		return false
	}
	if next == StatusFailed {
		return true
	}
	return StatusRank(next) > StatusRank(current)
}
