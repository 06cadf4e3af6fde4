"""Free text to typed arguments, shared by every text adapter (Slack slash commands, the console).

`/leaderboard csat month blue 2021-01-15` fills a CommandSpec's params in order; optional params may be
left out, so each word goes to the first remaining param whose kind accepts it. Mentions (`@Name`,
`@"Full Name"`, Slack's `<@U123|name>`) are resolved by a callback the adapter supplies; an unquoted
`@Martha Jones` is read as the full name when that is exactly someone's display name (see
`_join_full_names`). A TEXT param takes the rest of the line as typed, except a `quoted` one, which
takes one quoted string ("FCR cup") and nothing else. A quoted string fills only a TEXT param, never a
metric, team or option, so a name can never be mistaken for one. Any param may also be given by name,
`name=value` or `name="two words"`, anywhere before a TEXT param's words (as Discord's named options
are); an optional TEXT param followed by another TEXT param is given by name only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Connection

from bot.handlers.contract import Param, ParamKind, PersonRef
from bot.handlers.registry import CommandSpec
from bot.messages import render
from bot.scoring.periods import Period
from bot.services import people
from bot.services.leaderboard import metric_names

PersonResolver = Callable[[str], PersonRef | None]

_TOKEN = re.compile(
    r"""(?P<keyed>[a-z][a-z_]*=(?:"[^"]*"|[^\s"]+))
      | <@(?P<slack>[A-Z0-9]+)(?:\|[^>]*)?>
      | <@!?(?P<discord>\d+)>
      | @"(?P<quoted_mention>[^"]+)"
      | @(?P<mention>[^\s"@]+)
      | "(?P<quoted>[^"]*)"
      | (?P<word>\S+)""",
    re.VERBOSE,
)
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_TRAILING = ",.;:!?)"
_NO_MATCH = object()


class ParseError(ValueError):
    """The text does not fit the command; `message` (from the catalogue) names the token and the choices."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Token:
    kind: Literal["word", "mention"]
    value: str
    start: int
    end: int
    raw: str
    person: PersonRef | None = None  # already resolved (an unquoted `@First Last`)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What words may mean right now: metric and team keys, leagues, and how to find a mentioned person."""

    metrics: tuple[str, ...]
    teams: tuple[str, ...]
    resolve_person: PersonResolver
    leagues: tuple[str, ...] = ()
    locale: str = "en"
    # The one person whose display name is exactly this text (None: no one, or several).
    exact_name: PersonResolver | None = None


def vocabulary(
    connection: Connection, resolve_person: PersonResolver, locale: str = "en", leagues: Sequence[str] = ()
) -> Vocabulary:
    def exact_name(name: str) -> PersonRef | None:
        try:
            person = people.by_display_name(connection, name)
        except people.AmbiguousName:
            return None
        if person is None or person.display_name != name:
            return None
        return PersonRef(person.id, person.display_name)

    return Vocabulary(
        tuple(metric_names()),
        tuple(people.team_keys(connection)),
        resolve_person,
        locale=locale,
        exact_name=exact_name,
        leagues=tuple(leagues),
    )


def split_command(line: str) -> tuple[str, str]:
    """`/kudos @Jim thanks` -> (`kudos`, `@Jim thanks`).

    A line without the leading slash is plain text, not a command, as in chat: its name is "" and the
    whole line is the rest (`dispatch` answers that commands start with /).
    """
    stripped = line.strip()
    if not stripped.startswith("/"):
        return "", stripped
    name, _, rest = stripped.removeprefix("/").partition(" ")
    return name.lower(), rest.strip()


def tokenize(text: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "word"
        value = match.group(kind)
        end = match.end()
        if kind == "mention":
            trimmed = value.rstrip(_TRAILING)
            end -= len(value) - len(trimmed)
            value = trimmed
        token_kind: Literal["word", "mention"] = "word" if kind in ("word", "quoted", "keyed") else "mention"
        tokens.append(Token(token_kind, value, match.start(), end, text[match.start() : end]))
    return tokens


def parse_args(spec: CommandSpec, text: str, vocab: Vocabulary) -> dict[str, Any]:
    """Typed arguments for `spec` from `text`; params left out are None (PEOPLE: an empty tuple)."""
    tokens = _join_full_names(tokenize(text), text, vocab)
    params = spec.params
    values: dict[str, Any] = {}
    position = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        keyed = _keyed(spec, token, vocab)
        if keyed is not None:
            values[keyed[0]] = keyed[1]
            index += 1
            continue
        for offset, param in enumerate(params[position:]):
            if _named_only(param, params[position + offset + 1 :]):
                continue
            if param.kind is ParamKind.TEXT and param.quoted:
                if not _is_quoted(token):
                    if param.required:
                        raise ParseError(
                            _unexpected(spec, token, params[position : position + offset + 1], vocab)
                        )
                    continue
                values[param.name] = token.value.strip()
                index += 1
            elif param.kind is ParamKind.TEXT:
                values[param.name] = text[token.start :].strip()
                index = len(tokens)
            elif param.kind is ParamKind.PEOPLE and token.kind == "mention":
                mentions = _leading_mentions(tokens[index:])
                values[param.name] = tuple(_person(t, vocab) for t in mentions)
                index += len(mentions)
            else:
                value = _accept(param, token, vocab)
                if value is _NO_MATCH:
                    if param.required:
                        raise ParseError(
                            _unexpected(spec, token, params[position : position + offset + 1], vocab)
                        )
                    continue
                values[param.name] = value
                index += 1
            position += offset + 1
            break
        else:
            raise ParseError(_unexpected(spec, token, params[position:], vocab))
    missing = [p for p in params if p.required and values.get(p.name) in (None, "", ())]
    if missing:
        raise ParseError(
            render("parse.missing", vocab.locale, param=_describe(missing[0], vocab), usage=usage(spec))
        )
    return {p.name: values.get(p.name, () if p.kind is ParamKind.PEOPLE else None) for p in params}


def _named_only(param: Param, later: tuple[Param, ...]) -> bool:
    """An optional TEXT param followed by another TEXT param is filled only by name (`reason="…"`)."""
    return (
        param.kind is ParamKind.TEXT and not param.required and any(p.kind is ParamKind.TEXT for p in later)
    )


def _keyed(spec: CommandSpec, token: Token, vocab: Vocabulary) -> tuple[str, Any] | None:
    """`metric=fcr` or `name="FCR cup"` for a param of `spec`; None when the token is not one."""
    name, sign, raw = token.raw.partition("=")
    if not sign or token.kind != "word" or token.raw.startswith('"'):
        return None
    param = next((p for p in spec.params if p.name == name), None)
    if param is None:
        return None
    text = raw[1:-1] if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"') else raw
    if param.kind is ParamKind.TEXT:
        return name, text
    inner = tokenize(text)
    if param.kind is ParamKind.PEOPLE:
        return name, tuple(_person(t, vocab) for t in inner)
    if len(inner) != 1:
        raise ParseError(_unexpected(spec, token, (param,), vocab))
    value = _accept(param, inner[0], vocab)
    if value is _NO_MATCH:
        raise ParseError(_unexpected(spec, token, (param,), vocab))
    return name, value


def usage(spec: CommandSpec) -> str:
    """`/leaderboard [metric] [period] [team] [at] [full]`: optional params in brackets."""
    parts = [f"/{spec.name}"]
    for param in spec.params:
        shown = _usage_word(param)
        parts.append(shown if param.required else f"[{shown}]")
    return " ".join(parts)


def _usage_word(param: Param) -> str:
    if param.quoted:
        return f'"{param.name}"'
    if param.kind is ParamKind.PERSON:
        return f"@{param.name}"
    if param.kind is ParamKind.PEOPLE:
        return f"@{param.name} [@{param.name} …]"
    if param.kind is ParamKind.CHOICE:
        return "|".join(param.choices)
    return param.name


def _leading_mentions(tokens: list[Token]) -> list[Token]:
    mentions = []
    for token in tokens:
        if token.kind != "mention":
            break
        mentions.append(token)
    return mentions


def _join_full_names(tokens: list[Token], text: str, vocab: Vocabulary) -> list[Token]:
    """`@Martha Jones thanks`: the mention is Martha Jones, not @Martha with the reason `Jones thanks`.

    An unquoted `@Word` directly followed (one space) by a capitalised word becomes one mention of the
    person whose display name is exactly `Word Next`, unless `Word` alone already means someone else
    (a unique match to another person). Otherwise the tokens stay as typed.
    """
    if vocab.exact_name is None:
        return tokens
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        joined = _full_name(token, following, text, vocab) if following is not None else None
        if joined is not None:
            out.append(joined)
            index += 2
        else:
            out.append(token)
            index += 1
    return out


def _full_name(token: Token, following: Token, text: str, vocab: Vocabulary) -> Token | None:
    unquoted = token.kind == "mention" and token.raw.startswith("@") and not token.raw.startswith('@"')
    if not unquoted or following.kind != "word" or following.raw.startswith('"'):
        return None
    if text[token.end : following.start] != " " or not following.value[:1].isupper():
        return None
    surname = following.value.rstrip(_TRAILING)
    if not surname:
        return None
    assert vocab.exact_name is not None
    person = vocab.exact_name(f"{token.value} {surname}")
    if person is None:
        return None
    try:
        alone = vocab.resolve_person(token.value)
    except ParseError:
        alone = None  # several people fit the first word: the full name decides
    if alone is not None and alone.person_id != person.person_id:
        return None
    end = following.start + len(surname)
    return Token("mention", person.display_name, token.start, end, text[token.start : end], person)


def _is_quoted(token: Token) -> bool:
    return token.kind == "word" and token.raw.startswith('"')


def _person(token: Token, vocab: Vocabulary) -> PersonRef:
    if token.person is not None:
        return token.person
    person = vocab.resolve_person(token.value)
    if person is None:
        raise ParseError(render("parse.unknown_person", vocab.locale, handle=token.raw))
    return person


def _accept(param: Param, token: Token, vocab: Vocabulary) -> Any:
    if param.kind is ParamKind.PERSON:
        return _person(token, vocab) if token.kind == "mention" else _NO_MATCH
    if token.kind != "word" or _is_quoted(token):  # a quoted string is text, never a value or an option
        return _NO_MATCH
    word = token.value.lower()
    if param.kind is ParamKind.DATE:
        return _date(token, vocab) if _DATE.fullmatch(word) else _NO_MATCH
    if param.kind is ParamKind.INTEGER:
        return int(word) if re.fullmatch(r"[-+]?\d+", word) else _NO_MATCH
    if param.kind is ParamKind.NUMBER:
        return float(word) if _NUMBER.fullmatch(word) else _NO_MATCH
    if param.kind is ParamKind.PERIOD:
        return Period(word) if word in set(Period) else _NO_MATCH
    choices = _choices(param, vocab)
    matches = [choice for choice in choices if choice.lower() == word]
    return matches[0] if matches else _NO_MATCH


def _choices(param: Param, vocab: Vocabulary) -> tuple[str, ...]:
    if param.kind is ParamKind.METRIC:
        return vocab.metrics
    if param.kind is ParamKind.TEAM:
        return vocab.teams
    if param.kind is ParamKind.LEAGUE:
        return vocab.leagues
    if param.kind is ParamKind.PERIOD:
        return tuple(period.value for period in Period)
    return param.choices


def _date(token: Token, vocab: Vocabulary) -> date:
    try:
        year, month, day = (int(part) for part in token.value.split("-"))
        return date(year, month, day)
    except ValueError:
        raise ParseError(render("parse.bad_date", vocab.locale, token=token.raw)) from None


def _unexpected(spec: CommandSpec, token: Token, candidates: tuple[Param, ...], vocab: Vocabulary) -> str:
    if not candidates:
        return render("parse.extra", vocab.locale, token=token.raw, usage=usage(spec))
    expected = render("common.or", vocab.locale).join(_describe(param, vocab) for param in candidates)
    return render("parse.unexpected", vocab.locale, token=token.raw, expected=expected, usage=usage(spec))


def _describe(param: Param, vocab: Vocabulary) -> str:
    kind = param.kind.value
    if param.quoted:
        return render("parse.expect.quoted", vocab.locale, name=param.name)
    if param.kind in (
        ParamKind.PERSON,
        ParamKind.PEOPLE,
        ParamKind.DATE,
        ParamKind.INTEGER,
        ParamKind.NUMBER,
        ParamKind.TEXT,
    ):
        return render(f"parse.expect.{kind}", vocab.locale, name=param.name)
    choices = _choices(param, vocab)
    if param.kind is ParamKind.CHOICE and choices == (param.name,):
        return render("parse.expect.word", vocab.locale, word=param.name)
    listed = ", ".join(choices) if choices else render("parse.none_yet", vocab.locale)
    return render(f"parse.expect.{kind}", vocab.locale, name=param.name, choices=listed)
