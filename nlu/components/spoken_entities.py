"""Order numbers, phone numbers, postcodes, digits and dates as callers say them.

Callers read one order number out in many ways ("one oh four two three three",
"double seven", "twelve thirty four fifty six", "a hundred and four thousand
...") and ASR writes each of them differently again ("104,233", "123-456",
"1 0 4 2 3 3"). The dialogue must act on ONE canonical value, so every form is
reduced here, deterministically, to digits and ISO dates.

Standard library only: this module is imported by the Rasa component (Python
3.10) and by the engine (Python 3.11).

How it works: the text is split into tokens (words, digit groups, symbols, each
with its character offsets). Dates are found first, so that "Dec 3 2026" is not
read as the digits 32026. Then a small state machine walks over the remaining
tokens and collects *runs*: stretches of number words and digit groups, with
separators ("-", ",") and fillers ("um", "I mean") allowed in between. A run
becomes a `digits` entity, and an `order_number`, `phone_number` or `postcode`
when the words around it or its length say so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import NamedTuple

# ---------------------------------------------------------------------------
# Tokens


class _Token(NamedTuple):
    text: str  # lower-cased, curly apostrophes straightened
    start: int  # character offsets into the original text
    end: int

    @property
    def is_digits(self) -> bool:
        return self.text.isascii() and self.text.isdigit()


_TOKEN_RE = re.compile(
    r"\d+(?:st|nd|rd|th)\b"  # an ordinal in digits: "3rd"
    r"|\d+"  # a digit group
    r"|[^\W\d_]+(?:['’][^\W\d_]+)*"  # a word, "it's" included
    r"|\.\.\.|\S",  # an ellipsis or any other single symbol
    re.IGNORECASE,
)


def _tokenize(text: str) -> list[_Token]:
    return [
        _Token(m.group().lower().replace("’", "'"), m.start(), m.end())
        for m in _TOKEN_RE.finditer(text)
    ]


def _text(tokens: list[_Token], i: int) -> str:
    """The token text at i, or "" past the end, so look-aheads need no bounds checks."""
    return tokens[i].text if i < len(tokens) else ""


def _skip(tokens: list[_Token], i: int, word: str) -> int:
    """Steps over an optional word ("the", "of", ",")."""
    return i + 1 if _text(tokens, i) == word else i


def _phrase_at(tokens: list[_Token], i: int, phrases: dict[tuple[str, ...], str]) -> tuple[int, str] | None:
    """The longest phrase of `phrases` starting at i, as (length, label)."""
    for length in (3, 2, 1):
        label = phrases.get(tuple(t.text for t in tokens[i : i + length]))
        if label:
            return length, label
    return None


# ---------------------------------------------------------------------------
# Vocabulary

_UNITS = {w: n for n, w in enumerate("one two three four five six seven eight nine".split(), 1)}
_TEENS = {
    w: n
    for n, w in enumerate(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(), 10
    )
}
_TENS = {w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_SCALES = {"hundred": 100, "thousand": 1000}
_REPEATS = {"double": 2, "triple": 3}
_OH = {"oh", "o"}  # zero only next to other digits: "oh, I see" is no number

_FILLERS = {  # labelled like _CONTEXT_WORDS so that _phrase_at reads both
    phrase: "filler"
    for phrase in [
        ("um",), ("umm",), ("uh",), ("uhh",), ("uhm",), ("er",), ("erm",), ("ah",), ("hmm",),
        ("like",), ("sorry",), ("wait",), ("i", "mean"), ("you", "know"),
        ("hang", "on"), ("hold", "on"), ("let", "me", "see"), ("let's", "see"),
    ]
}
_SEPARATORS = {",", "-", "–", "(", ")"}
_PAUSES = {".", "...", "…"}  # a separator only when followed by a space: "4.99" is a price
_ANSWER_LEAD_INS = {"it's", "its", "it", "is", "that's", "yes", "yeah", "ok", "okay"}
# "the old one", "that one": the pronoun, not a digit, unless more digits follow.
_BEFORE_PRONOUN_ONE = {"the", "that", "this", "which", "old", "new", "other", "same", "right", "wrong", "another", "no"}
_CLAUSE_BREAKS = {"and", "but", "also", "plus", "then", ".", "...", "…", "?", "!", ";"}

_CONTEXT_WORDS = {
    ("zip",): "postcode",
    ("zipcode",): "postcode",
    ("postcode",): "postcode",
    ("post", "code"): "postcode",
    ("postal",): "postcode",
    ("phone",): "phone_number",
    ("cellphone",): "phone_number",
    ("telephone",): "phone_number",
    ("mobile",): "phone_number",
    ("cell",): "phone_number",
    ("number", "ending"): "phone_number",
    ("order",): "order_number",
    ("orders",): "order_number",
}
_KIND_BY_LENGTH = {5: "postcode", 6: "order_number", 10: "phone_number", 11: "phone_number"}
_ZIP_PLUS_FOUR = re.compile(r"\d{5}-\d{4}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?")

_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            "january jan", "february feb", "march mar", "april apr", "may", "june jun",
            "july jul", "august aug", "september sep sept", "october oct",
            "november nov", "december dec",
        ],
        1,
    )
    for name in names.split()
}
_WEEKDAYS = {w: n for n, w in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_ORDINALS = {
    w: n
    for n, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
        "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split(),
        1,
    )
} | {"twentieth": 20, "thirtieth": 30}
_RELATIVE_DAYS = {
    ("today",): 0,
    ("tonight",): 0,
    ("tomorrow",): 1,
    ("yesterday",): -1,
    ("day", "after", "tomorrow"): 2,
    ("day", "before", "yesterday"): -2,
}

# ---------------------------------------------------------------------------
# Dates

# A date matcher looks at token i and returns (end token, date), or None. The date
# itself is None when the words fit but the calendar does not ("February 30th").
_DateMatch = tuple[int, dt.date | None] | None


def _read_small_number(tokens: list[_Token], i: int) -> tuple[int, int] | None:
    """A count such as "3", "three", "twenty-one" or "a", as (value, next index)."""
    word = _text(tokens, i)
    if i < len(tokens) and tokens[i].is_digits:
        return int(word), i + 1
    if word in ("a", "an"):
        return 1, i + 1
    if word in _UNITS or word in _TEENS:
        return _UNITS.get(word) or _TEENS[word], i + 1
    if word in _TENS:
        j = _skip(tokens, i + 1, "-")
        if _text(tokens, j) in _UNITS:
            return _TENS[word] + _UNITS[_text(tokens, j)], j + 1
        return _TENS[word], i + 1
    return None


def _read_day(tokens: list[_Token], i: int) -> tuple[int, int] | None:
    """A day of the month: "3rd", "3", "third", "twenty-third", as (day, next index)."""
    word, j = _text(tokens, i), _skip(tokens, i + 1, "-")
    if word[:-2].isdigit() and word[-2:] in ("st", "nd", "rd", "th"):
        day, end = int(word[:-2]), i + 1
    elif word in ("twenty", "thirty") and _ORDINALS.get(_text(tokens, j), 10) < 10:
        day, end = _TENS[word] + _ORDINALS[_text(tokens, j)], j + 1
    elif word in _ORDINALS:
        day, end = _ORDINALS[word], i + 1
    elif word not in ("a", "an") and (number := _read_small_number(tokens, i)):
        day, end = number
    else:
        return None
    return (day, end) if 1 <= day <= 31 else None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _upcoming(month: int, day: int, today: dt.date) -> dt.date | None:
    """A date given without a year means its nearest occurrence from today on."""
    for year in range(today.year, today.year + 5):  # five years reach the next 29 February
        candidate = _safe_date(year, month, day)
        if candidate and candidate >= today:
            return candidate
    return None


def _with_year(tokens: list[_Token], j: int, month: int, day: int, today: dt.date) -> _DateMatch:
    """Reads an optional year after a month and day: "December 3rd, 2026"."""
    k = _skip(tokens, j, ",")
    year = _text(tokens, k)
    if len(year) == 4 and tokens[k].is_digits and year[:2] in ("19", "20"):
        return k + 1, _safe_date(int(year), month, day)
    return j, _upcoming(month, day, today)


def _relative_day(tokens: list[_Token], i: int, today: dt.date) -> _DateMatch:
    """today, tomorrow, yesterday, (the) day after tomorrow."""
    j = _skip(tokens, i, "the")
    for words, offset in _RELATIVE_DAYS.items():
        if tuple(t.text for t in tokens[j : j + len(words)]) == words:
            return j + len(words), today + dt.timedelta(days=offset)
    return None


def _next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


def _weekday(tokens: list[_Token], i: int, today: dt.date) -> _DateMatch:
    """ "Monday" and "on Monday" are the coming one; "this Friday" may be today;
    "next Friday" is the Friday of next week; "next week" is its Monday."""
    modifier = _text(tokens, i) if _text(tokens, i) in ("this", "next") else ""
    j = i + bool(modifier)
    if modifier == "next" and _text(tokens, j) == "week":
        return j + 1, _next_monday(today)
    weekday = _WEEKDAYS.get(_text(tokens, j))
    if weekday is None:
        return None
    if modifier == "next":
        return j + 1, _next_monday(today) + dt.timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and modifier != "this":
        ahead = 7
    return j + 1, today + dt.timedelta(days=ahead)


def _in_days(tokens: list[_Token], i: int, today: dt.date) -> _DateMatch:
    """in 3 days, in three days, in a week, in two weeks."""
    number = _read_small_number(tokens, i + 1) if _text(tokens, i) == "in" else None
    if number is None:
        return None
    count, j = number
    unit = _text(tokens, j)
    if unit in ("day", "days"):
        return j + 1, today + dt.timedelta(days=count)
    if unit in ("week", "weeks"):
        return j + 1, today + dt.timedelta(weeks=count)
    return None


def _month_first(tokens: list[_Token], i: int, today: dt.date) -> _DateMatch:
    """December 3rd, Dec. 3, December the third, December 3, 2026."""
    month = _MONTHS.get(_text(tokens, i))
    day = month and _read_day(tokens, _skip(tokens, _skip(tokens, i + 1, "."), "the"))
    return _with_year(tokens, day[1], month, day[0], today) if day else None


def _day_first(tokens: list[_Token], i: int, today: dt.date) -> _DateMatch:
    """3rd of December, the third of Dec, 3 December."""
    day = _read_day(tokens, _skip(tokens, i, "the"))
    if day is None:
        return None
    j = _skip(tokens, day[1], "of")
    month = _MONTHS.get(_text(tokens, j))
    return _with_year(tokens, j + 1, month, day[0], today) if month else None


def _numeric_date(tokens: list[_Token], i: int, today: dt.date) -> _DateMatch:
    """12/03 (US month/day), 12/03/26, 12/03/2026 and ISO 2026-12-03, written without spaces."""
    if not (i < len(tokens) and tokens[i].is_digits):
        return None
    j = i + 1
    while j < len(tokens) and tokens[j].start == tokens[j - 1].end and (
        tokens[j].is_digits or tokens[j].text in ("/", "-")
    ):
        j += 1
    written = "".join(t.text for t in tokens[i:j])
    if iso := _ISO_DATE.fullmatch(written):
        return j, _safe_date(*map(int, iso.groups()))
    if us := _US_DATE.fullmatch(written):
        month, day, year = us.groups()
        if year is None:
            return j, _upcoming(int(month), int(day), today)
        return j, _safe_date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
    return None


_DATE_MATCHERS = (_relative_day, _weekday, _in_days, _month_first, _day_first, _numeric_date)


def _find_dates(tokens: list[_Token], today: dt.date) -> list[tuple[int, int, dt.date]]:
    """Every date as (first token, end token, date), left to right, not overlapping."""
    found, i = [], 0
    while i < len(tokens):
        for matcher in _DATE_MATCHERS:
            match = matcher(tokens, i, today)
            if match and match[1]:
                found.append((i, match[0], match[1]))
                i = match[0]
                break
        else:
            i += 1
    return found


# ---------------------------------------------------------------------------
# Digit runs


class _Chunker:
    """Groups number words into the chunks a caller means.

    "one twenty three" is 1 and 23, "twelve thirty four" is 12 and 34, but "a
    hundred and four thousand two hundred thirty three" is one chunk: a word
    joins the open chunk only where English number grammar allows it, and
    otherwise starts a new one. The run's digits are the chunks side by side.
    """

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self._thousands = 0  # the closed "... thousand" part of the open chunk
        self._below_thousand = 0
        self._last: str | None = None  # kind of the open chunk's last word; None if none is open

    @property
    def accepts_and(self) -> bool:
        """ "and" belongs to a number only after a scale: "a hundred and four"."""
        return self._last == "scale"

    def add_digits(self, digits: str) -> None:
        self._close()
        self.chunks.append(digits)

    def add_word(self, kind: str, value: int) -> None:
        last, group = self._last, self._below_thousand
        if (kind == "unit" and last == "tens") or (kind in ("unit", "teen", "tens") and last == "scale"):
            self._below_thousand += value  # twenty three; hundred and four
        elif value == 100 and last in ("a", "unit", "teen", "tens") and 0 < group < 100:
            self._below_thousand *= 100  # four hundred; twelve hundred
        elif value == 1000 and last and not self._thousands and group:
            self._thousands, self._below_thousand = group * 1000, 0
        else:
            self._close()
            self._below_thousand = value
        self._last = kind

    def pause_before_pair(self) -> None:
        """A pause after a round hundred, before a pair of numbers, ends the hundred's chunk:
        "one hundred, five twelve" is 100 and 512 ("two hundred, thirty three" stays 233)."""
        if self._last == "scale" and not self._thousands and 0 < self._below_thousand < 1000 and not self._below_thousand % 100:
            self._close()

    def finish(self) -> list[str]:
        self._close()
        return self.chunks

    def digits_so_far(self) -> str:
        open_chunk = str(self._thousands + self._below_thousand) if self._last else ""
        return "".join(self.chunks) + open_chunk

    def _close(self) -> None:
        if self._last:
            self.chunks.append(str(self._thousands + self._below_thousand))
        self._thousands, self._below_thousand, self._last = 0, 0, None


_NUMBER_WORDS = (
    {w: ("unit", n) for w, n in _UNITS.items()}
    | {w: ("teen", n) for w, n in _TEENS.items()}
    | {w: ("tens", n) for w, n in _TENS.items()}
    | {w: ("scale", n) for w, n in _SCALES.items()}
)


def _single_digit(tokens: list[_Token], j: int) -> str | None:
    """The digit token j stands for when it is one digit: "7", "seven", "zero", "oh"."""
    if j >= len(tokens):
        return None
    token = tokens[j]
    if token.is_digits and len(token.text) == 1:
        return token.text
    if token.text in _UNITS:
        return str(_UNITS[token.text])
    return "0" if token.text == "zero" or token.text in _OH else None


def _starts_number(tokens: list[_Token], j: int) -> bool:
    """Whether a number follows at j ("oh-four" counts: the hyphen is skipped)."""
    j = _skip(tokens, j, "-")
    return j < len(tokens) and (
        tokens[j].is_digits or tokens[j].text in _NUMBER_WORDS or _single_digit(tokens, j) is not None
        or tokens[j].text in _REPEATS
    )


@dataclass
class _Run:
    """Tokens first..last (inclusive) spell the number `digits`."""

    first: int
    last: int
    digits: str
    is_quantity: bool  # one plain number below 100 ("two items") rather than an identifier


def _read_run(tokens: list[_Token], i: int, blocked: set[int]) -> _Run | None:
    """The state machine: reads the run starting at token i, if one starts there.

    Each step either feeds a number token to the chunker, steps over a gap
    (separator, filler, "and" after a scale) or ends the run. A few words are
    numbers only in company: "oh" next to digits, "double"/"triple" before one,
    "for" (ASR's "four") between digits read out one by one, "a" before "hundred".
    """
    chunker = _Chunker()
    last = None  # index of the run's last number token so far
    strong = False  # a run of nothing but "oh"s is an exclamation
    spoken_digits = 0  # digits said one by one as words so far
    after_spoken_digit = False
    if _text(tokens, i) == "one" and i and tokens[i - 1].text in _BEFORE_PRONOUN_ONE and not _starts_number(tokens, i + 1):
        return None
    j = i
    while j < len(tokens) and j not in blocked:
        word, used = tokens[j].text, 1
        if tokens[j].is_digits:
            chunker.add_digits(word)
        elif word == "zero" or (word in _OH and (after_spoken_digit or _starts_number(tokens, j + 1))):
            chunker.add_digits("0")
        elif word in _REPEATS and _single_digit(tokens, repeated := _skip(tokens, j + 1, "-")):
            for _ in range(_REPEATS[word]):  # one chunk per digit: "double seven" is spelled out
                chunker.add_digits(_single_digit(tokens, repeated))
            used = repeated - j + 1
        elif word == "for" and after_spoken_digit and spoken_digits >= 2 and _text(tokens, j + 1) in _UNITS:
            chunker.add_word("unit", 4)
        elif word in ("a", "an") and _text(tokens, j + 1) in _SCALES:
            chunker.add_word("a", 1)
        elif word in _NUMBER_WORDS and _text(tokens, j + 1) == "-" and _text(tokens, j + 2) in _ORDINALS:
            break  # "Twenty-Second Avenue": an ordinal, a name, not digits
        elif word in _NUMBER_WORDS:
            chunker.add_word(*_NUMBER_WORDS[word])
        else:
            gap = _gap_length(tokens, j) or int(word == "and" and chunker.accepts_and)
            if last is None or not gap:
                break
            if _complete_before_gap(tokens, j, gap, blocked, chunker.digits_so_far()):
                break
            if (word in _PAUSES or word in _SEPARATORS) and _text(tokens, j + gap) in _UNITS and _text(tokens, j + gap + 1) in _PAIR_WORDS:
                chunker.pause_before_pair()
            j += gap
            continue
        strong = strong or word not in _OH
        after_spoken_digit = not tokens[j].is_digits and (
            _single_digit(tokens, j) is not None or word in _REPEATS or word == "for"
        )
        spoken_digits += after_spoken_digit
        last = j + used - 1
        j += used
    if last is None or not strong:
        return None
    chunks = chunker.finish()
    digits = "".join(chunks)
    plain = len(chunks) == 1 and not (len(digits) > 1 and digits[0] == "0")
    return _Run(i, last, digits, is_quantity=plain and int(digits) < 100)


# A pause after this many digits ends the number: an order number (6) or a phone number (10)
# is whole, and what follows is a new sentence. Shorter runs go on across a pause ("one oh
# four... two three three").
_WHOLE_NUMBER_LENGTHS = (6, 10)


_PAIR_WORDS = _UNITS.keys() | _TEENS.keys() | _TENS.keys()  # the second word of "five twelve"


def _complete_before_gap(tokens: list[_Token], j: int, gap: int, blocked: set[int], so_far: str) -> bool:
    """Whether the number read so far ends at the gap at j: a whole number before a pause
    ("...eight seven four. Two charges, same day"); a pause before the number said again in
    full or once more ("three nine six. One oh two three nine six.", "...one five. Four three
    two one five."); a filler after a whole number that what follows would not complete
    ("one oh six three four seven like five days ago")."""
    whole = len(so_far) in _WHOLE_NUMBER_LENGTHS
    if tokens[j].text in _PAUSES:
        if whole:
            return True
        following = _run_after_gaps(tokens, j + gap, blocked)
        return following is not None and (len(following.digits) in _WHOLE_NUMBER_LENGTHS or following.digits == so_far)
    if whole and _phrase_at(tokens, j, _FILLERS):
        following = _run_after_gaps(tokens, j + gap, blocked)
        return following is not None and len(so_far + following.digits) not in _WHOLE_NUMBER_LENGTHS + (11,)
    return False


def _run_after_gaps(tokens: list[_Token], j: int, blocked: set[int]) -> _Run | None:
    """The run that starts at j, after the gaps a run steps over; None if no number follows."""
    while j < len(tokens) and (gap := _gap_length(tokens, j)):
        j += gap
    return _read_run(tokens, j, blocked) if j < len(tokens) else None


def _gap_length(tokens: list[_Token], j: int) -> int:
    """How many tokens at j may sit inside a run without being part of the number."""
    filler = _phrase_at(tokens, j, _FILLERS)
    if filler:
        return filler[0]
    token = tokens[j]
    pause = token.text in _PAUSES and j + 1 < len(tokens) and tokens[j + 1].start > token.end
    return int(token.text in _SEPARATORS or pause)


def _is_whole_utterance(tokens: list[_Token], run: _Run) -> bool:
    """True when the caller said nothing but the number ("two.", "um, it's 7")."""
    j = 0
    while j < len(tokens):
        if j == run.first:
            j = run.last + 1
            continue
        filler = _phrase_at(tokens, j, _FILLERS)
        if filler:
            j += filler[0]
        elif tokens[j].text in _ANSWER_LEAD_INS or not tokens[j].text[0].isalnum():
            j += 1
        else:
            return False
    return True


def _identifier_runs(tokens: list[_Token], dates: list[tuple[int, int, dt.date]]) -> list[_Run]:
    """Runs that name something (an order, a phone, a PIN), not a quantity or a date."""
    blocked = {k for first, end, _ in dates for k in range(first, end)}
    runs, i = [], 0
    while i < len(tokens):
        run = None if i in blocked else _read_run(tokens, i, blocked)
        if run is None:
            i += 1
            continue
        if not run.is_quantity or _is_whole_utterance(tokens, run):
            runs.append(run)
        i = run.last + 1
    return runs


# ---------------------------------------------------------------------------
# Typing a run


def _context(tokens: list[_Token], run: _Run, taken: set[int]) -> str | None:
    """The entity kind named in the run's clause: the nearest word before it, else after it."""
    for direction in (range(run.first - 1, -1, -1), range(run.last + 1, len(tokens))):
        for k in direction:
            if k in taken or tokens[k].text in _CLAUSE_BREAKS:
                break
            phrase = _phrase_at(tokens, k, _CONTEXT_WORDS)
            if phrase:
                return phrase[1]
    return None


def _canonical(kind: str, digits: str) -> str | None:
    """The canonical value of a run's digits as `kind`, or None if they cannot be one."""
    if kind == "order_number":
        return digits if len(digits) == 6 else None
    if kind == "phone_number":
        national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
        return national if len(national) == 10 else None
    if len(digits) == 9:
        return f"{digits[:5]}-{digits[5:]}"
    return digits if len(digits) == 5 else None


def _typed(digits: str, context: str | None, written: str) -> tuple[str, str] | None:
    """Context words decide first; then the length. A context that the length does not
    fit ("my order number is 10423") gives no typed entity, so the bot asks again."""
    kind = context or _KIND_BY_LENGTH.get(len(digits))
    if kind is None and _ZIP_PLUS_FOUR.fullmatch(written):
        kind = "postcode"
    value = kind and _canonical(kind, digits)
    return (kind, value) if value else None


# ---------------------------------------------------------------------------
# Public API


def spoken_digits(text: str) -> str:
    """Rewrites the digit sequences in `text` as digit strings, keeping all other words.

    "my order is one oh four, um, two three three" -> "my order is 104233";
    quantities ("two items") and dates are left as they are.
    """
    tokens = _tokenize(text)
    pieces, position = [], 0
    for run in _identifier_runs(tokens, _find_dates(tokens, dt.date.today())):
        pieces += [text[position : tokens[run.first].start], run.digits]
        position = tokens[run.last].end
    return "".join(pieces) + text[position:]


def parse_date(text: str, today: dt.date) -> str | None:
    """The first date in `text` as ISO "YYYY-MM-DD", relative to `today`; None if none."""
    dates = _find_dates(_tokenize(text), today)
    return dates[0][2].isoformat() if dates else None


def extract_entities(text: str, today: dt.date | None = None) -> list[dict]:
    """Rasa-style entities: order_number, phone_number, postcode, digits and date.

    Every digit sequence yields one entity: a typed one when its context or length
    says what it is, `digits` otherwise (so a form asking for "the last four digits"
    can take it). One span never carries two entities, as Rasa's evaluation expects.
    start/end index the original text.
    """
    tokens = _tokenize(text)
    dates = _find_dates(tokens, today or dt.date.today())
    runs = _identifier_runs(tokens, dates)
    taken = {k for run in runs for k in range(run.first, run.last + 1)}

    def entity(name: str, value: str, first: int, last: int) -> dict:
        start, end = tokens[first].start, tokens[last].end
        return {"entity": name, "value": value, "start": start, "end": end, "text": text[start:end]}

    entities = [entity("date", day.isoformat(), first, end - 1) for first, end, day in dates]
    for run in runs:
        written = text[tokens[run.first].start : tokens[run.last].end]
        typed = _typed(run.digits, _context(tokens, run, taken), written)
        entities.append(entity(*(typed or ("digits", run.digits)), run.first, run.last))
    return _without_corrected(sorted(entities, key=lambda e: e["start"]), text)


# Words between two numbers of one kind that take the first back: "...eight six, no wait, ...".
_CORRECTION = re.compile(r"\b(no|nope|wait|sorry|i mean|actually|scratch that|correction|hang on|hold on)\b", re.IGNORECASE)


def _without_corrected(entities: list[dict], text: str) -> list[dict]:
    """Drops a number the caller took back: an entity followed, after a correction word,
    by another of the same kind ("three oh three one nine... no wait, three oh three one eight")."""
    kept: list[dict] = []
    for e in entities:
        earlier = next((k for k in reversed(kept) if k["entity"] == e["entity"]), None)
        if earlier is not None and e["entity"] != "date" and _CORRECTION.search(text[earlier["end"] : e["start"]]):
            kept.remove(earlier)
        kept.append(e)
    return kept
