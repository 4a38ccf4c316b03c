package agent

import (
	"strconv"
	"time"

	"siegel/shared/ids"
)

func itoa(n int) string { return strconv.Itoa(n) }

// ShortID is the short, human-friendly form of a conversation ID shown in the
// list: the first 8 characters of its base64url text form.
func ShortID(c ids.ConvID) string {
	return c.String()[:8]
}

// FormatTime renders a point in time relative to now for the conversation list
// and the transcript: "14:05" today, "gestern 14:05"/"yesterday 14:05" the day
// before, "03.11. 14:05" (German) or "Nov 3, 14:05" (English) within the
// same year and "03.11.2024"/"2024-11-03" before that. The zero time renders
// as an empty string. now determines the location.
func (t *Text) FormatTime(at, now time.Time) string {
	if at.IsZero() {
		return ""
	}
	at = at.In(now.Location())
	clock := two(at.Hour()) + ":" + two(at.Minute())
	ay, am, ad := at.Date()
	ny, nm, nd := now.Date()
	if ay == ny && am == nm && ad == nd {
		return clock
	}
	yy, ym, yd := now.AddDate(0, 0, -1).Date()
	if ay == yy && am == ym && ad == yd {
		return t.Yesterday + " " + clock
	}
	if ay == ny {
		if t.Lang == English {
			return at.Month().String()[:3] + " " + itoa(ad) + ", " + clock
		}
		return two(ad) + "." + two(int(am)) + ". " + clock
	}
	if t.Lang == English {
		return itoa(ay) + "-" + two(int(am)) + "-" + two(ad)
	}
	return two(ad) + "." + two(int(am)) + "." + itoa(ay)
}

// ISOTime is the machine-readable form for a <time datetime> attribute.
func ISOTime(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return at.UTC().Format(time.RFC3339)
}

func two(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}
