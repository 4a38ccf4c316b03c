package faq

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lang selects the text analysis (stop words, stemmer, umlaut folding).
type Lang uint8

const (
	German Lang = iota
	English
)

// LangOf maps a language tag ("de", "en", "en-GB", …) to its analysis: English
// for tags whose primary subtag is "en", German for everything else.
func LangOf(tag string) Lang {
	if len(tag) >= 2 && tag[0]|0x20 == 'e' && tag[1]|0x20 == 'n' && (len(tag) == 2 || tag[2] == '-' || tag[2] == '_') {
		return English
	}
	return German
}

// tokens splits text into normalised words: lower case, diacritics folded
// (ä, ae and a are one letter in German; ß is ss), apostrophe contractions
// reduced to their first part, punctuation dropped. Words of one letter are
// dropped. The result is not yet stemmed or filtered.
func tokens(text string, lang Lang) []string {
	var out []string
	var b strings.Builder
	skip := false // after an apostrophe inside a word: drop the rest of it
	flush := func() {
		if b.Len() > 0 {
			w := b.String()
			if lang == German {
				w = collapseDigraphs(w)
			}
			if utf8.RuneCountInString(w) > 1 {
				out = append(out, w)
			}
			b.Reset()
		}
		skip = false
	}
	for _, r := range text {
		switch {
		case r == '\'' || r == '’' || r == '‘' || r == '´' || r == '`':
			if b.Len() > 0 {
				skip = true
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !skip {
				foldRune(&b, unicode.ToLower(r))
			}
		case unicode.Is(unicode.Mn, r):
			// combining marks (a decomposed "ä" is "a" + U+0308): dropped
		default:
			flush()
		}
	}
	flush()
	return out
}

// foldRune writes r without diacritics.
func foldRune(b *strings.Builder, r rune) {
	if r < 0x80 {
		b.WriteByte(byte(r))
		return
	}
	switch r {
	case 'ä', 'à', 'á', 'â', 'ã', 'å', 'ā':
		b.WriteByte('a')
	case 'ö', 'ò', 'ó', 'ô', 'õ', 'ø', 'ō':
		b.WriteByte('o')
	case 'ü', 'ù', 'ú', 'û', 'ū':
		b.WriteByte('u')
	case 'è', 'é', 'ê', 'ë', 'ē':
		b.WriteByte('e')
	case 'ì', 'í', 'î', 'ï', 'ī':
		b.WriteByte('i')
	case 'ß':
		b.WriteString("ss")
	case 'æ':
		b.WriteString("ae")
	case 'œ':
		b.WriteString("oe")
	case 'ç', 'č', 'ć':
		b.WriteByte('c')
	case 'ñ', 'ń':
		b.WriteByte('n')
	case 'ý', 'ÿ':
		b.WriteByte('y')
	case 'š', 'ś':
		b.WriteByte('s')
	case 'ž', 'ź', 'ż':
		b.WriteByte('z')
	case 'ł':
		b.WriteByte('l')
	default:
		b.WriteRune(r)
	}
}

// collapseDigraphs writes German umlauts spelt out as digraphs ("ae", "oe",
// "ue") as the plain vowel, so that "Gebühr", "Gebuehr" and "Gebuhr" are one
// word.
func collapseDigraphs(w string) string {
	if !strings.Contains(w, "ae") && !strings.Contains(w, "oe") && !strings.Contains(w, "ue") {
		return w
	}
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		c := w[i]
		b = append(b, c)
		if (c == 'a' || c == 'o' || c == 'u') && i+1 < len(w) && w[i+1] == 'e' {
			i++
		}
	}
	return string(b)
}

// word is an analysed word: its folded form, its stem, and whether it is a
// common word (weak evidence when the FAQ does not know it).
type word struct {
	word, stem string
	surface    int // letters of word
	common     bool
	exact      bool // a question word
}

// analyze turns text into the content words used for matching, in order.
func analyze(text string, lang Lang) []word {
	var out []word
	for _, w := range tokens(text, lang) {
		if isStop(w, lang) {
			continue
		}
		c := commonDE[w]
		if lang == English {
			c = commonEN[w]
		}
		x := questionDE[w]
		if lang == English {
			x = questionEN[w]
		}
		out = append(out, word{w, stem(w, lang), utf8.RuneCountInString(w), c, x})
	}
	return out
}

func isStop(w string, lang Lang) bool {
	if lang == English {
		return stopEN[w]
	}
	return stopDE[w]
}

func stem(w string, lang Lang) string {
	if !isASCII(w) {
		return w
	}
	if lang == English {
		return stemEN(w)
	}
	return stemDE(w)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func hasVowel(s string) bool {
	return strings.ContainsAny(s, "aeiouy")
}

// stemDE is a light German stemmer in the manner of the Snowball German
// stemmer's suffix steps (without its regions): inflectional endings first,
// then a few derivational ones; a stem keeps at least three letters.
// The input is folded (no umlauts, ß as ss).
func stemDE(w string) string {
	const minStem = 3
	cut := func(s, suf string) (string, bool) {
		if len(s) >= len(suf)+minStem && strings.HasSuffix(s, suf) && hasVowel(s[:len(s)-len(suf)]) {
			return s[:len(s)-len(suf)], true
		}
		return s, false
	}
	// Step 1: -ern -em -er -en -es -et -e, or -s after a valid s-ending
	// (-et is not Snowball's: it joins "kostet" and "kosten").
	done := false
	for _, suf := range [...]string{"ern", "em", "er", "en", "es", "et", "e"} {
		if w, done = cut(w, suf); done {
			break
		}
	}
	if !done && len(w) > minStem && w[len(w)-1] == 's' && strings.IndexByte("bdfghklmnrt", w[len(w)-2]) >= 0 {
		w = w[:len(w)-1]
	}
	// Step 2: -est -en -er, or -st after a valid st-ending.
	done = false
	for _, suf := range [...]string{"est", "en", "er"} {
		if w, done = cut(w, suf); done {
			break
		}
	}
	if !done && len(w) > minStem+2 && strings.HasSuffix(w, "st") && strings.IndexByte("bdfghklmnt", w[len(w)-3]) >= 0 {
		w = w[:len(w)-2]
	}
	// Step 3: derivational endings.
	for _, suf := range [...]string{"heit", "keit", "lich", "isch", "ung", "ig"} {
		var ok bool
		if w, ok = cut(w, suf); ok {
			break
		}
	}
	return w
}

// stemEN is a light English stemmer (Porter's step 1 with a few common
// derivational endings): plurals, -ing, -ed, -ly, -ation, -ment, -ness, a
// final e and -ate; a stem keeps at least three letters.
func stemEN(w string) string {
	const minStem = 3
	if len(w) <= minStem {
		return w
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s") && len(w) > minStem+1:
		w = w[:len(w)-1]
	}
	stripped := false
	for _, suf := range [...]string{"ingly", "edly", "ing", "ed", "ly"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= minStem && hasVowel(w[:len(w)-len(suf)]) {
			w = w[:len(w)-len(suf)]
			stripped = true
			break
		}
	}
	for _, suf := range [...]string{"ations", "ation", "ments", "ment", "ness"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= minStem && hasVowel(w[:len(w)-len(suf)]) {
			w = w[:len(w)-len(suf)]
			stripped = true
			break
		}
	}
	if stripped && len(w) > minStem {
		// running → run, cancelled → cancel
		if c := w[len(w)-1]; c == w[len(w)-2] && strings.IndexByte("aeiousz", c) < 0 {
			w = w[:len(w)-1]
		}
	}
	if len(w) > minStem && w[len(w)-1] == 'e' {
		w = w[:len(w)-1]
	}
	// locate, located, location → loc
	if strings.HasSuffix(w, "at") && len(w)-2 >= minStem {
		w = w[:len(w)-2]
	}
	return w
}

// set returns the folded words of a list.
func set(words string, lang Lang) map[string]bool {
	m := make(map[string]bool)
	for _, w := range tokens(words, lang) {
		m[w] = true
	}
	return m
}

// Stop words: function words that say nothing about what is asked. Question
// words (wann, wo, wie viel, when, where, how much) are kept on purpose: they
// tell opening hours from the address.
var stopDE = set(`
aber alle allem allen aller alles also am an andere anderen auch auf aus bei beim bin bis bist bitte
bzw da dabei dafur dagegen damit dann dar daran darauf daruber das dass dazu dein deine deinem deinen
deiner dem den denen denn der des dessen deshalb dich die dies diese diesem diesen dieser dieses dir
doch dort du durch eben echt eigentlich ein eine einem einen einer eines einfach einmal er es etwa
etwas euch euer eure eurem euren eurer fur gegen gehabt gern gerne grad gerade hab habe haben habt
hallo hast hat hatte hatten hey hi hier ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ins ist ja
jemand jetzt kann kannst konnen konnt konnte konnten konntet kurz lieber liebe mal man manchmal mein
meine meinem meinen meiner mich mir mit mochte mochten mochtest moin muss mussen musst ne nen nem ner
nicht nich net ned noch nun nur ob oder ohne okay ok schon sehr sei seid sein seine seinem seinen
seiner selbst servus sich sie sind so sollen sollte sollten soll sowie uber um und uns unser unsere
unserem unseren unserer unter viele vielen vom von vor war waren warst wart wurde wurden wurdest
werden werde wirst wird wir wollen wollte wollten will willst zu zum zur zwar danke dank tag guten
gute morgen abend grussgott gruss gruezi frage fragen frag wissen weiss wusste wusstet wollt sagen
sag sagt kennt kenne mag magst sorry entschuldigung naja also ah oh eh hm hmm ahm gibt gibts geht
nach seit wegen wahrend innerhalb ausser statt zwischen neben hinter per pro je ab wenn falls weil obwohl
sondern sowie damit denn als furs aufs ums ans vors ubers
`, German)

var stopEN = set(`
a about above after again all also am an and any anyone anybody are aren as at be been before being
both but by can cant could couldn did didn do does doesn doing don done each either else even ever
every for from had hadn has hasn have haven having he her here hers him his i if im in into
is isn it its itself just let lets me mine more most my myself no nor not of off oh on once only or
other our ours out own please pls plz same she should shouldn so some somebody someone something such
than thank thanks thx that thats the their theirs them then there these they this those though to
too tell told us very was wasn we were weren which while who whom why will with won would
wouldn yeah yes yet you your youre yours hi hello hey hiya dear sir madam ok okay well really
actually quick quickly question ask asking wonder wondering know wanna gonna gotta kind sort guys
folks mate maybe possibly perhaps ur ya
`, English)

// Question words are matched only exactly (not as typos or compound parts):
// "wann" is not "wenn", "where" is not "when".
var questionDE = set("wann wo wie was wer wen wem wessen welche welcher welches welchen welchem warum wieso weshalb weswegen wieviel wieviele woher wohin womit wozu", German)

var questionEN = set("when where what which who whom whose why how", English)

// Common words: frequent verbs, adverbs, adjectives and general nouns. They
// are not dropped (an FAQ may use them), but when the FAQ does not know them
// they weigh little, unlike unknown content words ("pizza", "Wetter"), which
// mark a question the FAQ does not answer.
var commonDE = set(`
machen macht machst gemacht lassen lässt lasse gelassen bekommen bekomme bekommt kriegen kriege kriegt
brauchen brauche braucht brauchst finden finde findet gefunden sehen sehe sieht schauen schaue schaut
kommen komme kommt gekommen geben gebe gegeben nehmen nehme nimmt genommen helfen hilft helft geholfen
arbeiten arbeitet arbeite funktionieren funktioniert passieren passiert stehen steht liegen liegt
gelten gilt laufen läuft fahren fahre fährt gefahren gehen gehe gegangen denken denke glauben glaube
suchen suche sucht gesucht akzeptieren akzeptiert verlangen verlangt erreichen erreiche erreicht
erledigen erledigt verzichten anbieten bietet biete angeboten vereinbaren ausmachen schreiben schreibe
schicken schicke kümmern kümmert ändern klappen klappt tun tut getan meinen meint zeigen zeigt
genau ungefähr irgendwo irgendwie irgendwann einfach selbst selber wieder sofort bald
immer oft manchmal nie vielleicht wirklich richtig ganz gut besser beste schlecht neu alt groß klein
viel mehr weniger wenig beste besten bester schnell spät früh nah nähe weit dort nochmal sowas nichts alles halt sogar
ziemlich total eher bereits dringend möglich möglichst gleich momentan aktuell leider trotzdem
sache ding dinge problem hilfe info infos information informationen möglichkeit art weise tag tage
woche wochen monat jahr jahre stunde stunden minute minuten leute mensch menschen person kunde kunden
firma laden geschäft sohn tochter kind kinder mann frau freund freundin familie hause zuhause ort
`, German)

var commonEN = set(`
get gets got getting take takes took make makes made go goes going went come comes coming came need
needs want wants see look looking find help helps give keep put say tell work works working use used
try trying send sending happen happens mean think feel leave stay start starts starting accept
exactly roughly approximately around somewhere anywhere somehow anything something everything nothing
just only still already now always often usually sometimes never right good
better best bad new old big small little many more less lot lots few fast near far home house thing
things stuff issue problem info information way week weeks month year years hour minute
minutes people person guy someone customer son daughter wife husband friend family place possible
currently sure able
`, English)
