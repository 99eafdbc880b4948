r"""Turn the text of a search filter into a query tree (``casebook.search.query``).

This is the language of ``GET /api/v2/cases?filter=...``, Datadog's case
search syntax (``status:open (team:a OR team:b) -priority:P5 "kubernetes pods"``)
with the facets casebook knows; ``docs/search.md`` is the user's reference.
Grammar, in EBNF; whitespace separates terms and is otherwise ignored::

    query       = [ or_expr ] ;
    or_expr     = and_expr { "OR" and_expr } ;
    and_expr    = not_expr { [ "AND" ] not_expr } ;          (* juxtaposition is AND *)
    not_expr    = { "NOT" | "-" } primary ;                  (* "-" touches its term *)
    primary     = "(" or_expr ")" | facet | text ;
    facet       = name ":" value ;                            (* no space after ":" *)
    value       = "(" value_or ")" | range | comparison | phrase | word ;
    value_or    = value_and { "OR" value_and } ;             (* as or_expr, over values *)
    value_and   = value_not { [ "AND" ] value_not } ;
    value_not   = { "NOT" | "-" } ( "(" value_or ")" | range | comparison | phrase | word ) ;
    range       = ( "[" | "{" ) bound "TO" bound ( "]" | "}" ) ;  (* [] inclusive, {} not *)
    comparison  = ( ">" | ">=" | "<" | "<=" ) word ;
    text        = phrase | word ;                             (* word may end in "*" *)
    phrase      = '"' { any character but '"' and "\" | "\" any character } '"' ;
    word        = a run of characters other than whitespace, "(", ")" and '"' ;
    name        = [a-z] { [a-z0-9_.-] } ;

``AND``, ``OR``, ``NOT`` and ``TO`` are operators only in upper case. Precedence
is NOT > AND > OR. Inside a value group (``priority:(P2 OR P3)``) the same
operators apply, with implicit AND as everywhere else.

Parsing is pure and deterministic: no database, no clock (relative times such
as ``now-7d`` are resolved against the ``now_us`` argument). Every problem is
an ``InvalidQueryError`` naming the term and its 0-based character offset, and
the input is bounded (``MAX_QUERY_LENGTH``, ``MAX_TERMS``, ``MAX_DEPTH``) before
any recursion, so hostile input costs linear time and a fixed stack.

It is a hand-written scanner and recursive-descent parser rather than regular
expressions over the whole text because quotes, escapes, negation, value groups
and ranges interact; each piece below handles one of them.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from casebook.core.clock import CANONICAL_UUID, parse_case_key
from casebook.core.entities import RESOLVED_REASONS, Priority, Status
from casebook.core.errors import InvalidQueryError
from casebook.search.query import (
    And,
    ArchivedIs,
    AttributeIs,
    CaseKeyIs,
    CaseTypeIs,
    CaseTypeNameIs,
    CountField,
    CountRange,
    CreationSourceIs,
    MatchAll,
    Not,
    NumberRange,
    Or,
    PriorityIs,
    ProjectIdIs,
    ProjectKeyIs,
    Query,
    ResolvedReasonIs,
    StatusIs,
    StatusNameIs,
    Text,
    TimeField,
    TimeRange,
    UserField,
    UserIs,
    UserMatch,
)

MAX_QUERY_LENGTH = 2_000
"""Characters in one filter; the URL limit of most proxies is a little above twice this."""

MAX_TERMS = 50
"""Leaf terms (words, phrases, facet values) in one filter."""

MAX_DEPTH = 10
"""Levels of nested parentheses, value groups included."""

__all__ = ["MAX_DEPTH", "MAX_QUERY_LENGTH", "MAX_TERMS", "parse"]


def parse(text: str, *, now_us: int) -> Query:
    """Parse a filter into a query tree; an empty filter is ``MatchAll()``.

    ``now_us`` (microseconds since the epoch, UTC) anchors relative times. The
    tree does not include the default ``archived:false`` scope; see
    ``casebook.search.query.with_default_scope``.
    """
    _check_input(text)
    return _Parser(_tokenize(text), now_us).parse()


# --- input checks -------------------------------------------------------------

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def _check_input(text: str) -> None:
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQueryError(
            f"query too long at {MAX_QUERY_LENGTH}; the limit is {MAX_QUERY_LENGTH} "
            f"characters (this one has {len(text)})",
            position=MAX_QUERY_LENGTH,
        )
    for pos, ch in enumerate(text):
        # Cc: C0/C1 controls such as NUL; Cs: lone surrogates, which no database can store.
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in _ALLOWED_CONTROLS:
            code = f"U+{ord(ch):04X}"
            raise InvalidQueryError(f"invalid character {code} at {pos}", position=pos, term=code)


# --- scanner ------------------------------------------------------------------


class _Kind(enum.Enum):
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    MINUS = "-"
    WORD = "word"
    PHRASE = "phrase"
    FIELD = "facet"
    RANGE = "range"
    COMPARE = "comparison"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class _Bound:
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    pos: int
    raw: str  # the source text, for messages
    value: str = ""  # WORD/PHRASE: the value; FIELD: the name; COMPARE: the operand
    op: str = ""  # COMPARE: > >= < <=; RANGE: the two brackets, e.g. "[}"
    value_pos: int = 0  # COMPARE: where the operand starts
    bounds: tuple[_Bound, _Bound] | None = None  # RANGE


_KEYWORDS = {"AND": _Kind.AND, "OR": _Kind.OR, "NOT": _Kind.NOT}
_STARTS_TERM = frozenset(
    {
        _Kind.LPAREN,
        _Kind.NOT,
        _Kind.MINUS,
        _Kind.WORD,
        _Kind.PHRASE,
        _Kind.FIELD,
        _Kind.RANGE,
        _Kind.COMPARE,
    }
)


def _word_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and not text[i].isspace() and text[i] not in '()"':
        i += 1
    return i


def _check_separated(text: str, i: int, what: str) -> None:
    """A quoted phrase or a range must be followed by whitespace, ")" or the end."""
    if i < len(text) and not text[i].isspace() and text[i] != ")":
        raise InvalidQueryError(
            f"expected a space after the {what} at {i}", position=i, term=text[i]
        )


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    # One entry per open "(": whether it opened a facet's value group, where
    # words are values and "[", "{", "<", ">" start ranges and comparisons.
    groups: list[bool] = []
    field: _Token | None = None  # the FIELD token whose value comes next
    n = len(text)
    i = 0
    while True:
        start = i
        while i < n and text[i].isspace():
            i += 1
        if field is not None and (i > start or i == n or text[i] == ")"):
            raise InvalidQueryError(
                f'missing value after "{field.raw}" at {field.pos}',
                position=field.pos,
                term=field.raw,
            )
        if i == n:
            tokens.append(_Token(_Kind.EOF, n, ""))
            return tokens
        in_value = field is not None or (bool(groups) and groups[-1])
        after_field, field = field is not None, None
        ch = text[i]
        if ch == "(":
            groups.append(in_value)
            tokens.append(_Token(_Kind.LPAREN, i, ch))
            i += 1
        elif ch == ")":
            if groups:
                groups.pop()
            tokens.append(_Token(_Kind.RPAREN, i, ch))
            i += 1
        elif ch == '"':
            token = _scan_phrase(text, i)
            tokens.append(token)
            i += len(token.raw)
        elif in_value and ch in "[{":
            token = _scan_range(text, i)
            tokens.append(token)
            i += len(token.raw)
        elif in_value and ch in "<>":
            token = _scan_comparison(text, i)
            tokens.append(token)
            i = token.value_pos + len(token.value)
        elif ch == "-" and not after_field:
            # Negation touches its term; "- x" is more likely a slip than a search for "-".
            if i + 1 == n or text[i + 1].isspace() or text[i + 1] == ")":
                raise InvalidQueryError(
                    f'lone "-" at {i}; write -term, without a space', position=i, term="-"
                )
            tokens.append(_Token(_Kind.MINUS, i, "-"))
            i += 1
        else:
            end = _word_end(text, i)
            word = text[i:end]
            if after_field:
                tokens.append(_word(text, i, end))
            elif word in _KEYWORDS:
                tokens.append(_Token(_KEYWORDS[word], i, word))
            elif not in_value and ":" in word:
                name = word[: word.index(":")]
                field = _Token(_Kind.FIELD, i, name + ":", value=name)
                tokens.append(field)
                end = i + len(name) + 1
            else:
                tokens.append(_word(text, i, end))
            i = end


def _word(text: str, start: int, end: int) -> _Token:
    if end < len(text) and text[end] == '"':
        raise InvalidQueryError(
            f"unexpected quote at {end}; put a space before it", position=end, term='"'
        )
    word = text[start:end]
    return _Token(_Kind.WORD, start, word, value=word)


def _scan_phrase(text: str, start: int) -> _Token:
    chars: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            chars.append(text[i + 1])
            i += 2
        elif ch == '"':
            _check_separated(text, i + 1, "closing quote")
            return _Token(_Kind.PHRASE, start, text[start : i + 1], value="".join(chars))
        else:
            chars.append(ch)
            i += 1
    raise InvalidQueryError(f"unclosed quote at {start}", position=start, term=text[start:])


def _scan_range(text: str, start: int) -> _Token:
    parts: list[_Bound] = []
    n = len(text)
    i = start + 1
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            raise InvalidQueryError(
                f'unclosed range "{text[start]}" at {start}', position=start, term=text[start:]
            )
        if text[i] in "]}":
            break
        end = i
        while end < n and not text[end].isspace() and text[end] not in "]}":
            end += 1
        parts.append(_Bound(text[i:end], i))
        i = end
    raw = text[start : i + 1]
    if len(parts) != 3 or parts[1].text != "TO":
        raise InvalidQueryError(
            f'malformed range "{raw}" at {start}; write [FROM TO UNTIL]', position=start, term=raw
        )
    _check_separated(text, i + 1, "range")
    return _Token(_Kind.RANGE, start, raw, op=text[start] + text[i], bounds=(parts[0], parts[2]))


def _scan_comparison(text: str, start: int) -> _Token:
    op = text[start : start + 2] if text.startswith((">=", "<="), start) else text[start]
    j = start + len(op)
    end = _word_end(text, j)
    if end == j:
        raise InvalidQueryError(f'missing value after "{op}" at {start}', position=start, term=op)
    if end < len(text) and text[end] == '"':
        raise InvalidQueryError(
            f"unexpected quote at {end}; put a space before it", position=end, term='"'
        )
    return _Token(_Kind.COMPARE, start, text[start:end], value=text[j:end], op=op, value_pos=j)


# --- times --------------------------------------------------------------------

_TIME_FIELDS = {f.value: f for f in TimeField}
_DAY_US = 86_400_000_000
_UNIT_US = {
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": _DAY_US,
    "w": 7 * _DAY_US,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_US = (datetime(1, 1, 2, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC) - _EPOCH) // timedelta(
    microseconds=1
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)
_RELATIVE = re.compile(r"now(?:([+-])([0-9]{1,12})([smhdw]))?\Z")
_TIME_RULE = (
    "use YYYY-MM-DD, an RFC 3339 timestamp such as 2026-01-31T09:30:00Z, "
    "now, or now-N with a unit s, m, h, d or w (now-7d)"
)


def _parse_time(text: str, pos: int, now_us: int) -> tuple[int, int]:
    """(instant, granularity) in microseconds: a date spans a day, anything else one microsecond."""
    try:
        if match := _RELATIVE.match(text):
            sign, amount, unit = match.groups()
            offset = int(amount) * _UNIT_US[unit] if amount else 0
            instant, granularity = now_us + (-offset if sign == "-" else offset), 1
        elif match := _DATE.match(text):
            year, month, day = (int(g) for g in match.groups())
            instant = (datetime(year, month, day, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
            granularity = _DAY_US
        elif match := _TIMESTAMP.match(text):
            year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
            fraction, zone = match[7] or "", match[8]
            tz = UTC
            if zone not in ("Z", "z"):
                hours, minutes = int(zone[1:3]), int(zone[4:6])
                sign_ = -1 if zone[0] == "-" else 1
                tz = timezone(sign_ * timedelta(hours=hours, minutes=minutes))
            moment = datetime(
                year, month, day, hour, minute, second, int(fraction[:6].ljust(6, "0")), tz
            )
            instant = (moment - _EPOCH) // timedelta(microseconds=1)
            granularity = 1
        else:
            raise ValueError(text)
    except (ValueError, OverflowError):
        raise InvalidQueryError(
            f'invalid time "{text}" at {pos}; {_TIME_RULE}', position=pos, term=text
        ) from None
    if not _MIN_US <= instant <= _MAX_US:
        raise InvalidQueryError(
            f'time "{text}" at {pos} is out of range (years 0001 to 9999)', position=pos, term=text
        )
    return instant, granularity


def _build_time(facet: _Facet, token: _Token, now_us: int) -> Query:
    field = _TIME_FIELDS[facet.name]
    if token.kind is _Kind.WORD and token.value == "*":
        return TimeRange(field, None, None)
    start: int | None
    end: int | None
    if token.kind is _Kind.RANGE:
        assert token.bounds is not None
        low, high = token.bounds
        start = end = None
        if low.text != "*":
            instant, granularity = _parse_time(low.text, low.pos, now_us)
            start = instant if token.op[0] == "[" else instant + granularity
        if high.text != "*":
            instant, granularity = _parse_time(high.text, high.pos, now_us)
            end = instant + granularity if token.op[1] == "]" else instant
    elif token.kind is _Kind.COMPARE:
        instant, granularity = _parse_time(token.value, token.value_pos, now_us)
        start, end = {
            ">": (instant + granularity, None),
            ">=": (instant, None),
            "<": (None, instant),
            "<=": (None, instant + granularity),
        }[token.op]
    else:
        instant, granularity = _parse_time(token.value, token.pos, now_us)
        start, end = instant, instant + granularity
    if start is not None and end is not None and start >= end:
        raise InvalidQueryError(
            f'empty time range "{token.raw}" at {token.pos}', position=token.pos, term=token.raw
        )
    return TimeRange(field, start, end)


# --- counts -------------------------------------------------------------------

_COUNT_FIELDS = {f.value: f for f in CountField}
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}\Z")


def _parse_count(facet: _Facet, text: str, pos: int) -> int:
    if not _WHOLE_NUMBER.match(text):
        raise InvalidQueryError(
            f'invalid {facet.name} "{text}" at {pos}; must be a whole number such as 0 or 3',
            position=pos,
            term=text,
        )
    return int(text)


def _build_count(facet: _Facet, token: _Token, now_us: int) -> Query:
    """Whole numbers as ``start <= n < end``: ``>2`` is from 3, ``[1 TO 5]`` up to 6."""
    field = _COUNT_FIELDS[facet.name]
    if token.kind is _Kind.WORD and token.value == "*":
        return MatchAll()  # every case has a count
    start: int | None
    end: int | None
    if token.kind is _Kind.RANGE:
        assert token.bounds is not None
        low, high = token.bounds
        start = end = None
        if low.text != "*":
            number = _parse_count(facet, low.text, low.pos)
            start = number if token.op[0] == "[" else number + 1
        if high.text != "*":
            number = _parse_count(facet, high.text, high.pos)
            end = number + 1 if token.op[1] == "]" else number
    elif token.kind is _Kind.COMPARE:
        number = _parse_count(facet, token.value, token.value_pos)
        start, end = {
            ">": (number + 1, None),
            ">=": (number, None),
            "<": (None, number),
            "<=": (None, number + 1),
        }[token.op]
    else:
        number = _parse_count(facet, token.value, token.pos)
        start, end = number, number + 1
    if start is not None and end is not None and start >= end:
        raise InvalidQueryError(
            f'empty range "{token.raw}" at {token.pos}', position=token.pos, term=token.raw
        )
    return CountRange(field, start, end)


# --- facets -------------------------------------------------------------------


_Builder = Callable[["_Facet", "_Token", int], Query]
"""Makes the term for one value of a facet: (facet, value token, now_us) -> query."""


@dataclass(frozen=True, slots=True)
class _Facet:
    """A facet name as written, and what it refers to."""

    name: str
    pos: int
    build: _Builder
    attribute: str = ""


_NAME = re.compile(r"[a-z][a-z0-9_.-]*\Z")
_PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9]{0,9}\Z", re.I | re.ASCII)
_ATTRIBUTES_PREFIX = "attributes."

_STATUS_NAMES: dict[str, Status] = {}
for _status in Status:
    for _alias in (_status.value, _status.group, _status.display_name):
        _STATUS_NAMES[_alias.casefold()] = _status
_PRIORITY_NAMES = {p.value: p for p in Priority}
_PRIORITY_LIST = "P1, P2, P3, P4, P5, NOT_DEFINED"


def _refuse_ranges(facet: _Facet, token: _Token) -> None:
    if token.kind in (_Kind.RANGE, _Kind.COMPARE):
        raise InvalidQueryError(
            f'"{facet.name}" takes no ranges or comparisons: "{token.raw}" at {token.pos}',
            position=token.pos,
            term=token.raw,
        )


def _split_wildcard(token: _Token) -> tuple[str, bool]:
    """(value, is_prefix) of a word that may end in ``*``; a lone ``*`` gives ("", True)."""
    value = token.value
    if token.kind is not _Kind.WORD or "*" not in value:
        return value, False
    if value.index("*") != len(value) - 1:
        raise InvalidQueryError(
            f'wildcard in "{value}" at {token.pos}; only a trailing * is supported',
            position=token.pos,
            term=value,
        )
    return value[:-1], True


def _plain_value(facet: _Facet, token: _Token) -> str | None:
    """The value of a facet other than times and attributes; ``None`` for a bare ``*``."""
    _refuse_ranges(facet, token)
    if token.kind is not _Kind.WORD or "*" not in token.value:
        return token.value
    if token.value == "*":
        return None
    raise InvalidQueryError(
        f'wildcard in "{token.raw}" at {token.pos}; only text and attribute values '
        f"take a trailing *",
        position=token.pos,
        term=token.raw,
    )


def _invalid(facet: _Facet, token: _Token, rule: str) -> InvalidQueryError:
    return InvalidQueryError(
        f'invalid {facet.name} "{token.value}" at {token.pos}; {rule}',
        position=token.pos,
        term=token.value,
    )


def _status_builder(names: str) -> _Builder:
    def build(facet: _Facet, token: _Token, now_us: int) -> Query:
        value = _plain_value(facet, token)
        if value is None:
            return MatchAll()
        status = _STATUS_NAMES.get(value.casefold())
        if status is None:
            raise _invalid(facet, token, f"must be one of {names}")
        return StatusIs(status)

    return build


def _build_priority(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _plain_value(facet, token)
    if value is None:
        return MatchAll()
    priority = _PRIORITY_NAMES.get(value.upper())
    if priority is None:
        raise _invalid(facet, token, f"must be one of {_PRIORITY_LIST}")
    return PriorityIs(priority)


def _build_project(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _plain_value(facet, token)
    if value is None:
        return MatchAll()
    if not _PROJECT_KEY.match(value):
        raise _invalid(
            facet, token, "a project key is 1 to 10 letters and digits, starting with a letter"
        )
    return ProjectKeyIs(value.upper())


def _uuid(facet: _Facet, token: _Token) -> str | None:
    value = _plain_value(facet, token)
    if value is None:
        return None
    if not CANONICAL_UUID.fullmatch(value):
        raise _invalid(facet, token, "must be a UUID")
    return value.lower()


def _build_project_id(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _uuid(facet, token)
    return MatchAll() if value is None else ProjectIdIs(value)


def _build_case_key(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _plain_value(facet, token)
    if value is None:
        return MatchAll()
    key = parse_case_key(value)
    if key is None:
        raise _invalid(facet, token, "a case key is a project key and a number, as in SEC-12")
    return CaseKeyIs(key)


def _build_type(facet: _Facet, token: _Token, now_us: int) -> Query:
    """A case type by id, or by name (``type:standard``, ``type:"Security Incident"``)."""
    value = _plain_value(facet, token)
    if value is None:
        return MatchAll()
    if CANONICAL_UUID.fullmatch(value):
        return CaseTypeIs(value.lower())
    return CaseTypeNameIs(value)


def _build_status_name(facet: _Facet, token: _Token, now_us: int) -> Query:
    """A status of any case type by name (``status_name:Triage``, ``"In Progress"``)."""
    value = _plain_value(facet, token)
    return MatchAll() if value is None else StatusNameIs(value)


def _build_type_id(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _uuid(facet, token)
    return MatchAll() if value is None else CaseTypeIs(value)


def _build_creation_source(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _plain_value(facet, token)
    if value is None:
        return MatchAll()
    return CreationSourceIs("_".join(value.upper().split()))


def _build_archived(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _plain_value(facet, token)
    if value is None:
        return ArchivedIs(None)
    folded = value.casefold()
    if folded not in ("true", "false"):
        raise _invalid(facet, token, "must be true, false or *")
    return ArchivedIs(folded == "true")


_RESOLVED_REASON_LIST = ", ".join(RESOLVED_REASONS)


def _build_resolved_reason(facet: _Facet, token: _Token, now_us: int) -> Query:
    value = _plain_value(facet, token)
    if value is None:
        return ResolvedReasonIs(None)
    reason = "_".join(value.upper().split())
    if reason not in RESOLVED_REASONS:
        raise _invalid(facet, token, f"must be one of {_RESOLVED_REASON_LIST}")
    return ResolvedReasonIs(reason)


def _user_builder(field: UserField) -> _Builder:
    def build(facet: _Facet, token: _Token, now_us: int) -> Query:
        value = _plain_value(facet, token)
        if value is None:
            return UserIs(field, UserMatch.ANY)
        if value.casefold() == "me":
            return UserIs(field, UserMatch.ME)
        if CANONICAL_UUID.fullmatch(value):
            return UserIs(field, UserMatch.ID, value.lower())
        return UserIs(field, UserMatch.NAME, value.lower())

    return build


def _build_attribute(facet: _Facet, token: _Token, now_us: int) -> Query:
    _refuse_ranges(facet, token)
    value, prefix = _split_wildcard(token)
    if prefix and not value:
        return AttributeIs(facet.attribute, None)
    return AttributeIs(facet.attribute, value.lower(), prefix)


_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?(?:[eE][+-]?[0-9]{1,3})?\Z")


def parse_number(text: str) -> float | None:
    """A decimal number as the search language writes it (``7``, ``-2.5``, ``1e3``), or None."""
    if not _NUMBER.match(text):
        return None
    number = float(text)
    return number if abs(number) != float("inf") else None


def _number(facet: _Facet, text: str, pos: int) -> float:
    number = parse_number(text)
    if number is None:
        raise InvalidQueryError(
            f'invalid {facet.name} "{text}" at {pos}; a comparison takes a number such as 7 or 2.5',
            position=pos,
            term=text,
        )
    return number


def _build_field(facet: _Facet, token: _Token, now_us: int) -> Query:
    """A key that is no facet: a custom attribute's or an ``attributes`` key's value, or,
    compared (``severity_score:>7``, ``[1 TO 5]``), a NUMBER custom attribute's.
    The domain decides which, knowing the organisation's case types."""
    key = facet.attribute
    if token.kind is _Kind.RANGE:
        assert token.bounds is not None
        low, high = token.bounds
        start = None if low.text == "*" else _number(facet, low.text, low.pos)
        end = None if high.text == "*" else _number(facet, high.text, high.pos)
        if start is not None and end is not None and start > end:
            raise InvalidQueryError(
                f'empty range "{token.raw}" at {token.pos}', position=token.pos, term=token.raw
            )
        return NumberRange(key, start, end, token.op[0] == "[", token.op[1] == "]", pos=facet.pos)
    if token.kind is _Kind.COMPARE:
        number = _number(facet, token.value, token.value_pos)
        inclusive = token.op.endswith("=")
        if token.op.startswith(">"):
            return NumberRange(key, number, None, inclusive, True, pos=facet.pos)
        return NumberRange(key, None, number, True, inclusive, pos=facet.pos)
    value, prefix = _split_wildcard(token)
    if prefix and not value:
        return AttributeIs(key, None, bare=True, pos=facet.pos)
    return AttributeIs(key, value.lower(), prefix, bare=True, pos=facet.pos)


_FACETS: dict[str, _Builder] = {
    "status": _status_builder("OPEN, IN_PROGRESS, CLOSED"),
    "status_group": _status_builder("SG_OPEN, SG_IN_PROGRESS, SG_CLOSED"),
    "status_name": _build_status_name,
    "priority": _build_priority,
    "project": _build_project,
    "project.key": _build_project,
    "project_id": _build_project_id,
    "key": _build_case_key,
    "assignee": _user_builder(UserField.ASSIGNEE),
    "assignee_id": _user_builder(UserField.ASSIGNEE),
    "created_by": _user_builder(UserField.CREATED_BY),
    "watcher": _user_builder(UserField.WATCHER),
    "type": _build_type,
    "type_id": _build_type_id,
    "archived": _build_archived,
    "creation_source": _build_creation_source,
    "resolved_reason": _build_resolved_reason,
    **dict.fromkeys(_TIME_FIELDS, _build_time),
    **dict.fromkeys(_COUNT_FIELDS, _build_count),
}
"""Known facet names; any other well-formed name is a custom attribute's key or a key of
the case's attributes (``_build_field``)."""


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _suggest(name: str) -> str | None:
    """The known facet ``name`` is probably a misspelling of, if any.

    Two edits, or one for the short names ``key`` and ``type`` so that
    ordinary attribute keys such as ``dev`` or ``time`` stay attributes.
    """
    best: tuple[int, str] | None = None
    for known in _FACETS:
        distance = _distance(name, known)
        if distance <= (1 if len(known) <= 4 else 2) and (best is None or distance < best[0]):
            best = (distance, known)
    return None if best is None else best[1]


def facet_clash(key: str) -> str | None:
    """The facet a key would be read as in a search: itself when it is a facet's name, or
    the facet it is one or two edits from (read as a misspelling); None when it is free."""
    return key if key in _FACETS or key.startswith(_ATTRIBUTES_PREFIX) else _suggest(key)


def _resolve_facet(token: _Token) -> _Facet:
    name = token.value
    if not _NAME.match(name):
        lowered = name.lower()
        suggestion = lowered if lowered in _FACETS else _suggest(lowered)
        hint = (
            f'; facet names are lower case: did you mean "{suggestion}"?'
            if suggestion and _NAME.match(lowered)
            else '; a facet name is lower-case letters, digits, "_", "." and "-", starting '
            'with a letter (put text that contains ":" in quotes)'
        )
        raise InvalidQueryError(
            f'invalid facet name "{name}" at {token.pos}{hint}', position=token.pos, term=name
        )
    build = _FACETS.get(name)
    if build is not None:
        return _Facet(name, token.pos, build)
    if name.startswith(_ATTRIBUTES_PREFIX):
        key = name.removeprefix(_ATTRIBUTES_PREFIX)
        if not _NAME.match(key):
            raise InvalidQueryError(
                f'invalid attribute key "{key}" at {token.pos}', position=token.pos, term=name
            )
        return _Facet(name, token.pos, _build_attribute, attribute=key)
    suggestion = _suggest(name)
    if suggestion is not None:
        raise InvalidQueryError(
            f'unknown facet "{name}" at {token.pos}; did you mean "{suggestion}"? '
            f'(write "{_ATTRIBUTES_PREFIX}{name}:" for an attribute of that name)',
            position=token.pos,
            term=name,
        )
    return _Facet(name, token.pos, _build_field, attribute=name)


# --- parser -------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token], now_us: int) -> None:
        self.tokens = tokens
        self.index = 0
        self.now_us = now_us
        self.terms = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Query:
        if self.peek().kind is _Kind.EOF:
            return MatchAll()
        query = self.or_expr(None, 0)
        token = self.peek()
        if token.kind is _Kind.RPAREN:
            raise InvalidQueryError(f'unexpected ")" at {token.pos}', position=token.pos, term=")")
        assert token.kind is _Kind.EOF, token
        return query

    def require_term_after(self, operator: _Token) -> None:
        if self.peek().kind not in _STARTS_TERM:
            raise InvalidQueryError(
                f'expected a term after "{operator.raw}" at {operator.pos}',
                position=operator.pos,
                term=operator.raw,
            )

    def or_expr(self, facet: _Facet | None, depth: int) -> Query:
        terms = [self.and_expr(facet, depth)]
        while self.peek().kind is _Kind.OR:
            self.require_term_after(self.take())
            terms.append(self.and_expr(facet, depth))
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def and_expr(self, facet: _Facet | None, depth: int) -> Query:
        terms = [self.not_expr(facet, depth)]
        while True:
            kind = self.peek().kind
            if kind is _Kind.AND:
                self.require_term_after(self.take())
            elif kind not in _STARTS_TERM:
                break
            terms.append(self.not_expr(facet, depth))
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def not_expr(self, facet: _Facet | None, depth: int) -> Query:
        # A loop, not recursion: "- - - ... x" must not grow the stack. Negations
        # cancel in pairs, which is exact because every term is true or false.
        negated = False
        while self.peek().kind in (_Kind.NOT, _Kind.MINUS):
            self.require_term_after(self.take())
            negated = not negated
        query = self.primary(facet, depth)
        return Not(query) if negated else query

    def primary(self, facet: _Facet | None, depth: int) -> Query:
        token = self.peek()
        if token.kind is _Kind.LPAREN:
            return self.group(facet, depth)
        if token.kind is _Kind.FIELD:
            self.take()
            inner = _resolve_facet(token)
            if self.peek().kind is _Kind.LPAREN:
                return self.group(inner, depth)
            value = self.take()
            assert value.kind in (_Kind.WORD, _Kind.PHRASE, _Kind.RANGE, _Kind.COMPARE), value
            return self.value_term(inner, value)
        if token.kind in (_Kind.WORD, _Kind.PHRASE, _Kind.RANGE, _Kind.COMPARE):
            self.take()
            if facet is None:
                return self.text_term(token)
            return self.value_term(facet, token)
        what = "end of query" if token.kind is _Kind.EOF else f'"{token.raw}"'
        raise InvalidQueryError(
            f"unexpected {what} at {token.pos}; expected a term", position=token.pos, term=token.raw
        )

    def group(self, facet: _Facet | None, depth: int) -> Query:
        opening = self.take()
        if depth >= MAX_DEPTH:
            raise InvalidQueryError(
                f'too deeply nested "(" at {opening.pos}; the limit is {MAX_DEPTH} levels',
                position=opening.pos,
                term="(",
            )
        kind = self.peek().kind
        if kind is _Kind.RPAREN:
            raise InvalidQueryError(
                f'empty group "()" at {opening.pos}', position=opening.pos, term="()"
            )
        if kind is _Kind.EOF:
            raise InvalidQueryError(
                f'unclosed "(" at {opening.pos}', position=opening.pos, term="("
            )
        query = self.or_expr(facet, depth + 1)
        if self.peek().kind is not _Kind.RPAREN:
            raise InvalidQueryError(
                f'unclosed "(" at {opening.pos}', position=opening.pos, term="("
            )
        self.take()
        return query

    def count_term(self, token: _Token) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise InvalidQueryError(
                f'too many terms at {token.pos} ("{token.raw}"); the limit is {MAX_TERMS}',
                position=token.pos,
                term=token.raw,
            )

    def value_term(self, facet: _Facet, token: _Token) -> Query:
        self.count_term(token)
        if token.kind is _Kind.PHRASE and not token.value:
            raise InvalidQueryError(
                f'empty value for "{facet.name}" at {token.pos}', position=token.pos, term=token.raw
            )
        return facet.build(facet, token, self.now_us)

    def text_term(self, token: _Token) -> Query:
        self.count_term(token)
        text, prefix = _split_wildcard(token)
        if prefix and not text:
            return MatchAll()
        if not any(ch.isalnum() for ch in text):
            raise InvalidQueryError(
                f'nothing to search for in "{token.raw}" at {token.pos}; text search needs '
                f"letters or digits",
                position=token.pos,
                term=token.raw,
            )
        return Text(text, prefix)
