package detector

import "time"

// parseTime parses the timestamp spellings Sysmon records carry on Kafka and
// returns Unix nanoseconds (UTC):
//
//	2020-09-18 17:06:07.797          Sysmon UtcTime (UTC, no zone)
//	2024-10-26 15:13:47.3559412      EVTX-to-JSON SystemTime (7 digits, no zone, UTC)
//	2025-11-26T05:11:27.927693Z      RFC 3339, any number of fractional digits up to 9
//	2020-09-18 13:06:07              no fraction, no zone
//	2025-03-06T10:00:00+01:00        numeric offsets (also +0100)
//
// A value without a zone is taken as UTC. It never allocates.
func parseTime(s string) (int64, bool) {
	if len(s) < 19 {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	rest := s[19:]
	var nanos int
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		scale := 100_000_000
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			if i <= 9 {
				nanos += int(rest[i]-'0') * scale
				scale /= 10
			}
			i++
		}
		if i == 1 {
			return 0, false
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case rest[0] == '+' || rest[0] == '-':
		var h, m int
		var okh, okm bool
		switch len(rest) {
		case 6: // +01:00
			if rest[3] != ':' {
				return 0, false
			}
			h, okh = digits(rest[1:3])
			m, okm = digits(rest[4:6])
		case 5: // +0100
			h, okh = digits(rest[1:3])
			m, okm = digits(rest[3:5])
		case 3: // +01
			h, okh = digits(rest[1:3])
			okm = true
		default:
			return 0, false
		}
		if !okh || !okm || h > 23 || m > 59 {
			return 0, false
		}
		offset = h*3600 + m*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	// Seconds first: the result must fit int64 nanoseconds (years 1677-2262).
	secs := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Unix() - int64(offset)
	const minSec, minNanos = -9223372037, 145224192 // math.MinInt64 ns
	const maxSec, maxNanos = 9223372036, 854775807  // math.MaxInt64 ns
	if secs < minSec || secs > maxSec ||
		(secs == minSec && nanos < minNanos) || (secs == maxSec && nanos > maxNanos) {
		return 0, false
	}
	return secs*int64(time.Second) + int64(nanos), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
