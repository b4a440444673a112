package sysmongen

// UtcTimeLayout is Sysmon's UtcTime as a time.Parse layout.
const UtcTimeLayout = "2006-01-02 15:04:05.000"

// Timestamp spellings of the shapes (sysmon-formats.md). Each is appended
// by appendTime without time.Format's layout interpretation.
type timeLayout struct {
	sep  byte // between date and time: ' ' or 'T'
	frac int  // fractional digits, 0..9
	zulu bool // trailing 'Z'
}

var (
	layoutUtcTime = timeLayout{' ', 3, false} // Sysmon UtcTime: 2020-09-18 17:06:07.797
	layoutISOms   = timeLayout{'T', 3, true}  // @timestamp: 2023-08-15T09:53:46.119Z
	layoutISO6    = timeLayout{'T', 6, true}  // evtx_dump: 2025-11-26T05:11:27.927693Z
	layoutISO7    = timeLayout{'T', 7, true}  // XML SystemTime: 2025-11-26T05:11:27.9276931Z
	layoutSpace7  = timeLayout{' ', 7, false} // EvtxECmd: 2024-10-26 15:13:47.3559412
	layoutPlain   = timeLayout{' ', 0, false} // NXLog EventTime (local): 2020-09-18 13:06:07
)

// appendTime appends the instant ns (Unix nanoseconds) in UTC in layout l.
// Fractions are truncated, as Windows does.
func appendTime(dst []byte, ns int64, l timeLayout) []byte {
	sec := ns / 1e9
	nsec := ns % 1e9
	if nsec < 0 {
		nsec += 1e9
		sec--
	}
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civil(days)
	dst = appendPad(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, m, 2)
	dst = append(dst, '-')
	dst = appendPad(dst, d, 2)
	dst = append(dst, l.sep)
	dst = appendPad(dst, int(rem/3600), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, int(rem/60%60), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, int(rem%60), 2)
	if l.frac > 0 {
		dst = append(dst, '.')
		f := int(nsec)
		for i := l.frac; i < 9; i++ {
			f /= 10
		}
		dst = appendPad(dst, f, l.frac)
	}
	if l.zulu {
		dst = append(dst, 'Z')
	}
	return dst
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}
