package jsonwire

import (
	"math/bits"
	"slices"
	"time"
)

// The number and time formatting of the encoder, written into the buffer in
// place: the digit count is known before the first digit, so the digits go
// straight to their place (no scratch array copied after), two at a time.

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendUint64 appends u in decimal, as strconv.AppendUint(b, u, 10) does.
func appendUint64(b []byte, u uint64) []byte {
	if u < 10 {
		return append(b, byte('0'+u))
	}
	n := decimalLen(u)
	b = slices.Grow(b, n)
	end := len(b) + n
	b = b[:end]
	d := b[end-n : end]
	i := n
	for u >= 100 { // the loop of putDigits, here so that an integer is one call
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		d[i], d[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		d[0], d[1] = digitPairs[u*2], digitPairs[u*2+1]
	} else {
		d[0] = byte('0' + u)
	}
	return b
}

// appendInt64 appends v in decimal, as strconv.AppendInt(b, v, 10) does.
func appendInt64(b []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = -u // -MinInt64 wraps to its magnitude
	}
	return appendUint64(b, u)
}

// putDigits writes u's decimal digits into d, which is exactly decimalLen(u) long.
func putDigits(d []byte, u uint64) {
	i := len(d)
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		d[i], d[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		d[i-2], d[i-1] = digitPairs[u*2], digitPairs[u*2+1]
		return
	}
	d[i-1] = byte('0' + u)
}

// powers10[i] is 10^i.
var powers10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimalLen is the number of decimal digits of u (1 for 0).
func decimalLen(u uint64) int {
	// log10(2) ≈ 1233/4096: an estimate from the bit length, off by at most one.
	n := (bits.Len64(u) * 1233) >> 12
	if u >= powers10[n] {
		n++
	}
	return max(n, 1)
}

// Unix seconds of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the years
// that RFC 3339 (and so Time.MarshalJSON) can write.
const (
	minRFC3339Unix = -62167219200
	endRFC3339Unix = 253402300800
)

// appendTimeUTC appends t as Time.AppendText writes it ("2006-01-02T15:04:05.999999999Z",
// unquoted), for a time in UTC whose year is in [0,9999]; ok is false for any
// other time (other zones, even of offset zero, are left to AppendText: asking
// for the offset costs more than the formatting), and nothing is appended.
func appendTimeUTC(b []byte, t time.Time) (_ []byte, ok bool) {
	sec := t.Unix()
	if sec < minRFC3339Unix || sec >= endRFC3339Unix || t.Location() != time.UTC {
		return b, false
	}
	// Days since 0000-03-01 of a proleptic Gregorian calendar shifted by 400
	// years, so that everything is positive (H. Hinnant's civil_from_days).
	s := uint64(sec - minRFC3339Unix)
	days, daySec := s/86400, s%86400
	z := days + 146097 - 60 // 0000-01-01 is 60 days before 0000-03-01
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year := yoe + era*400 - 400
	if month <= 2 {
		year++
	}
	hour, minute, second := daySec/3600, daySec/60%60, daySec%60

	const width = len("2006-01-02T15:04:05.999999999Z")
	b = slices.Grow(b, width)
	n := len(b)
	d := b[n : n+width]
	put2(d[0:], year/100)
	put2(d[2:], year%100)
	d[4] = '-'
	put2(d[5:], month)
	d[7] = '-'
	put2(d[8:], day)
	d[10] = 'T'
	put2(d[11:], hour)
	d[13] = ':'
	put2(d[14:], minute)
	d[16] = ':'
	put2(d[17:], second)
	k := 19
	if ns := uint64(t.Nanosecond()); ns != 0 {
		putDigits(d[19:29], ns+1e9) // nine digits after a leading 1 that the '.' overwrites
		d[19] = '.'
		k = 29
		for d[k-1] == '0' {
			k--
		}
	}
	d[k] = 'Z'
	return b[:n+k+1], true
}

// put2 writes v, below 100, as two digits.
func put2(d []byte, v uint64) {
	d[0], d[1] = digitPairs[v*2], digitPairs[v*2+1]
}
