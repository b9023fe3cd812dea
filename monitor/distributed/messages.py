"""What travels on the item stream, from seeds and workers to the writer: one JSON object per message.

Kinds: ``run`` (a seed started a run: its outlets), ``seeded`` (the seed put every start request on the queue),
``article`` (an extracted article: the fields of :class:`monitor.extract.Article`, its outlet, the canonical URL
discovery found it under and the time discovery announced; with a worker's verdict and derived values when its
extraction process gave them), ``page`` (a page that is not an article), ``counts``
(a worker's counters for a run since its last message), ``feed`` (validators of a feed read in full) and
``incomplete`` (a feed one of whose articles failed). Every message names its run (a seed's run id).

:func:`decode` reads a message strictly: anything else is a :class:`MessageError` (one line), which the writer
dead-letters instead of stopping.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from monitor.extract import Article
from monitor.rules import Verdict
from monitor.rules.model import Match

if TYPE_CHECKING:  # imported when a message carries derived values: the seed never needs them
    from monitor.archive.derived import Derived

FIELD = "m"  # the one field of a stream entry
KINDS = ("run", "seeded", "article", "page", "counts", "feed", "incomplete")
_ARTICLE_FIELDS = {f.name for f in fields(Article)}
_ARTICLE_REQUIRED = {f.name for f in fields(Article) if f.default is MISSING and f.default_factory is MISSING}
_MATCH_FIELDS = {f.name for f in fields(Match)}


class MessageError(ValueError):
    """A stream entry that is not a message the writer can use; the text says why in one line."""


@dataclass
class Message:
    kind: str
    run: str
    data: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> dict[str, str]:
        """The stream entry's fields."""
        return {FIELD: json.dumps({"kind": self.kind, "run": self.run, **self.data}, ensure_ascii=False)}


def article_message(
    run: str,
    source: str,
    article: Article,
    key: str | None,
    announced: str | None,
    verdict: Verdict | None = None,
    derived: Derived | None = None,
) -> Message:
    """An article; with the verdict a worker's extraction process gave it (what the archive stores of one:
    relevance, score, rule-set version and matches), which the writer keeps when its rules are that version, and
    what that process derived from its text (:mod:`monitor.archive.derived`), which the writer uses when its own
    code would derive the same."""
    data: dict[str, Any] = {"source": source, "key": key, "announced": announced, "article": asdict(article)}
    if derived is not None:
        from monitor.archive.derived import to_json

        data["derived"] = to_json(derived)
    if verdict is not None:
        data["verdict"] = {
            "relevance": verdict.relevance,
            "score": verdict.score,
            "ruleset": verdict.ruleset,
            "matches": [asdict(match) for match in verdict.matches],
        }
    return Message("article", run, data)


def page_message(run: str, source: str, key: str, reason: str, announced: str | None) -> Message:
    return Message("page", run, {"source": source, "key": key, "reason": reason, "announced": announced})


def _text(value: Any, name: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value):
        raise MessageError(f"{name} is not {'a string' if optional else 'a non-empty string'}")
    return value


def _article(value: Any) -> Article:
    if not isinstance(value, dict):
        raise MessageError("article is not an object")
    missing = sorted(_ARTICLE_REQUIRED - set(value))
    if missing:
        raise MessageError(f"article lacks {', '.join(missing)}")
    known = {name: value[name] for name in _ARTICLE_FIELDS if name in value}
    for name in ("url", "canonical_url", "text"):
        _text(known.get(name), f"article.{name}")
    for name in ("authors", "date_candidates", "credits"):
        if name in known and not isinstance(known[name], list):
            raise MessageError(f"article.{name} is not a list")
    if not isinstance(known.get("words"), int):
        raise MessageError("article.words is not a number")
    return Article(**known)


def _verdict(value: Any) -> Verdict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("matches"), list):
        raise MessageError("verdict is not an object with matches")
    _text(value.get("relevance"), "verdict.relevance")
    _text(value.get("ruleset"), "verdict.ruleset")
    if not isinstance(value.get("score"), int | float):
        raise MessageError("verdict.score is not a number")
    try:
        matches = [Match(**{k: v for k, v in m.items() if k in _MATCH_FIELDS}) for m in value["matches"]]
    except (TypeError, AttributeError) as exc:
        raise MessageError(f"verdict.matches: {' '.join(str(exc).split())}") from exc
    return Verdict(value["relevance"], float(value["score"]), value["ruleset"], matches)


def _counts(value: Any) -> dict[str, dict[str, int]]:
    if not isinstance(value, dict):
        raise MessageError("counts is not an object")
    for outlet, counters in value.items():
        if not isinstance(counters, dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in counters.values()
        ):
            raise MessageError(f"counts of {outlet!r} are not numbers")
    return value


def decode(entry: dict[Any, Any]) -> Message:
    """The message of a stream entry (its fields as Redis gives them: bytes or text)."""
    raw = entry.get(FIELD, entry.get(FIELD.encode()))
    if raw is None:
        raise MessageError(f"no {FIELD!r} field")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        body = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MessageError(f"not JSON: {' '.join(str(exc).split())}") from exc
    if not isinstance(body, dict):
        raise MessageError("not a JSON object")
    kind = body.pop("kind", None)
    if kind not in KINDS:
        raise MessageError(f"unknown kind {kind!r}")
    run = body.pop("run", None)
    if isinstance(run, int) and not isinstance(run, bool):
        run = str(run)
    _text(run, "run")
    if kind == "article":
        body["article"] = _article(body.get("article"))
        body["verdict"] = _verdict(body.get("verdict"))
        if body.get("derived") is not None:  # unusable values are dropped: the writer derives them itself
            from monitor.archive.derived import from_json

            body["derived"] = from_json(body["derived"])
        _text(body.get("source"), "source")
        _text(body.get("key"), "key", optional=True)
        _text(body.get("announced"), "announced", optional=True)
    elif kind == "page":
        for name in ("source", "key", "reason"):
            _text(body.get(name), name)
        _text(body.get("announced"), "announced", optional=True)
    elif kind == "counts":
        body["counts"] = _counts(body.get("counts", {}))
        errors = body.setdefault("errors", {})
        active = body.setdefault("active", {})
        if not isinstance(errors, dict) or not all(isinstance(v, list) for v in errors.values()):
            raise MessageError("errors is not an object of lists")
        if not isinstance(active, dict) or not all(isinstance(v, int | float) for v in active.values()):
            raise MessageError("active is not an object of times")
    elif kind == "run":
        outlets = body.get("outlets")
        if not isinstance(outlets, list) or not all(isinstance(o, dict) and o.get("name") for o in outlets):
            raise MessageError("outlets is not a list of outlets")
        _text(body.get("started"), "started")
    elif kind in ("feed", "incomplete"):
        _text(body.get("url"), "url")
    assert isinstance(run, str)
    return Message(kind, run, body)
