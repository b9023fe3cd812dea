"""A year of crawls as a plan (``bench/make_archive.py``): which runs store which articles, copies, revisions and
non-article pages, with what text, verdicts and counts, reproducibly from a seed, a chunk of runs at a time.

Every process that makes chunks calls :func:`setup` once (rules, outlets, vocabulary, text maker); a chunk is made
by :class:`ChunkMaker` from the plan and its number alone, so chunks can be made in any process, in any order.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from synthetic import TextMaker, vocabulary, word_count

from monitor.archive.bulk import ArticleRow, Outlet, new_article, refetch
from monitor.archive.runs import INTERRUPTED
from monitor.discovery.sources import load_sources
from monitor.discovery.urls import canonical_url
from monitor.extract import Article
from monitor.extract.dates import WARSAW
from monitor.rules import Ruleset, Verdict, classify, load_rules, word_bytes

BATCH = 25  # articles per transaction, as MONITOR_BATCH_SIZE
CHUNK_RUNS = 48  # runs made together (by one worker); copies and revisions stay within a chunk
GROUP_WEIGHT = {"national": 6.0, "broadcaster": 2.5, "business": 2.0, "international": 1.5, "regional": 1.0}
STORY_SHARE, MENTION_SHARE = 0.025, 0.04  # texts written about the talks, and with a passage on them
WIRE_SHARE, REVISED_SHARE, NON_ARTICLE_SHARE = 0.04, 0.015, 0.02
INTERRUPTED_SHARE = 0.002
MEDIAN_CHARS = 2000  # body length: log-normal around this median (mean ≈ 2,300), 300–20,000
FIRST = "Anna Piotr Katarzyna Tomasz Magdalena Michał Agnieszka Paweł Joanna Marcin Ewa Jakub Monika Łukasz".split()  # noqa: SIM905
LAST = "Nowak Kowalska Wiśniewski Wójcik Kamińska Lewandowski Zielińska Szymański Woźniak Dąbrowski Kozłowska".split()  # noqa: SIM905
NON_ARTICLE_REASONS = ("no article text (0 words of prose)", "video page", "photo gallery")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def warsaw(moment: datetime) -> str:
    return moment.astimezone(WARSAW).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Plan:
    """Everything that decides the archive; the same in every worker."""

    articles: int
    days: float
    run_every: int
    until: datetime
    seed: int
    interrupted: float = INTERRUPTED_SHARE  # share of runs killed before they ended

    @property
    def runs(self) -> int:
        return max(1, int(self.days * 24 * 60 // self.run_every))

    def run_start(self, run: int) -> datetime:
        return self.until - timedelta(minutes=self.run_every * (self.runs - run))

    def run_weights(self) -> list[float]:
        """More articles by day than by night (Warsaw time)."""
        weights = []
        for run in range(self.runs):
            hour = self.run_start(run).astimezone(WARSAW).hour
            weights.append(0.25 if hour < 6 else 1.0 if hour < 18 else 0.6)
        return weights

    def first_ids(self) -> list[int]:
        """The id of each run's first new article (and one past the last)."""
        weights = self.run_weights()
        total = sum(weights)
        ids, cumulative = [1], 0.0
        for weight in weights:
            cumulative += weight
            ids.append(1 + math.floor(self.articles * cumulative / total + 1e-9))
        return ids


@dataclass
class Batch:
    at: str
    items: list[tuple[str, Article, Verdict]] = field(default_factory=list)
    announced: list[tuple[str, str | None]] = field(default_factory=list)
    non_articles: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class PlannedRun:
    """One crawl run as the storage path replays it; the bulk path gets :class:`RunRows` instead."""

    run_id: int
    started: str
    finished: str
    status: str
    per_source: dict[str, dict[str, Any]]
    feeds: list[tuple[str, str | None, str | None]]
    batches: list[Batch] = field(default_factory=list)


STATE: dict[str, Any] = {}


def setup(plan: Plan) -> None:
    """Per process: the rules, outlets, vocabulary and the verdict of plain text."""
    ruleset = load_rules()
    sources = load_sources()
    vocab = vocabulary(ruleset, seed=plan.seed)
    STATE.update(plan=plan, ruleset=ruleset, sources=sources, vocab=vocab, first_ids=plan.first_ids())
    rng = random.Random(plan.seed)
    weights = [GROUP_WEIGHT.get(s.group or "", 0.5) * rng.uniform(0.3, 1.7) for s in sources]
    STATE["weights"] = list(accumulate(weights))  # cumulative: drawn by bisection, not summed at every draw
    maker = TextMaker(vocab, random.Random(plan.seed))
    STATE.update(maker=maker, plain=classify(ruleset, maker.title(), maker.lead(), maker.body(2000)))


def outlets() -> list[Outlet]:
    return [Outlet(s.name, s.title, s.domains, s.group) for s in load_sources()]


@dataclass
class Spec:
    """Something a run stores: a new article (``copy_of`` a wire original), or a re-fetch that revises one."""

    what: str  # "new" or "revise"
    kind: str = "plain"  # "plain", "story" (written about the talks) or "mention"
    copy_of: int | None = None
    outlet: Any = None
    article_id: int | None = None


class ChunkMaker:
    """Makes the runs of one chunk of CHUNK_RUNS runs (articles, copies, revisions, non-articles, counts),
    reproducibly from the plan's seed and the chunk's number."""

    def __init__(self, chunk: int):
        self.plan: Plan = STATE["plan"]
        self.ruleset: Ruleset = STATE["ruleset"]
        self.sources = STATE["sources"]
        self.rng = random.Random(self.plan.seed * 1_000_003 + chunk)
        self.text: TextMaker = STATE["maker"]
        self.text.restart(self.rng)  # a chunk is the same whichever process makes it, after whichever others
        self.first = chunk * CHUNK_RUNS
        self.last = min(self.plan.runs, self.first + CHUNK_RUNS)
        self.due: dict[int, list[Spec]] = {}
        self.stored: dict[int, tuple[Article, str, Any]] = {}  # id → (article, kind, outlet)
        self.rows: dict[int, ArticleRow] = {}
        self.stories: dict[int, int] = {}  # a wire original's id → its story

    def make(self) -> list[tuple[PlannedRun, list[int], list[tuple[Any, ...]]]]:
        """Each run of the chunk, with the ids of its new articles and its revision rows, in storing order."""
        return [self._run(run) for run in range(self.first, self.last)]

    def _verdict(self, kind: str, article: Article) -> Verdict:
        plain: Verdict = STATE["plain"]
        if kind == "plain" and self.rng.random() >= 0.005:
            return plain
        verdict = classify(self.ruleset, article.title, article.lead, article.text)
        if kind == "plain" and verdict != plain:  # the vocabulary promises that plain text matches nothing
            raise RuntimeError(f"plain synthetic text matched the rules: {verdict.matches[:3]}")
        return verdict

    def _texts(self, kind: str) -> tuple[str, str | None, str]:
        chars = int(min(20_000, max(300, self.rng.lognormvariate(math.log(MEDIAN_CHARS), 0.55))))
        if kind == "story":
            return self.text.title(0.6), self.text.lead(0.4), self.text.body(chars, 0.3, 6)
        if kind == "mention":
            return self.text.title(), self.text.lead(0.2), self.text.body(chars, 0.2, 2)
        lead = self.text.lead() if self.rng.random() < 0.85 else None
        return self.text.title(), lead, self.text.body(chars)

    def _article(
        self,
        article_id: int,
        outlet: Any,
        start: datetime,
        at: datetime,
        texts: tuple[str, str | None, str],
        credits: list[str],
    ) -> Article:
        rng = self.rng
        title, lead, text = texts
        minutes = rng.expovariate(1 / 25) + (rng.random() < 0.05) * rng.uniform(60, 2880)
        moment = start - timedelta(minutes=minutes)
        dated = rng.random() > 0.01
        published = warsaw(moment) if dated else None
        origin = rng.choice(("jsonld:datePublished",) * 7 + ("meta:article:published_time",) * 2 + ("feed",))
        candidates = [{"value": published, "source": origin}] if published else []
        if published and rng.random() < 0.6:
            candidates.append({"value": published, "source": "time[datetime]"})
        modified = None
        if dated and rng.random() < 0.3:
            modified = warsaw(min(start, moment + timedelta(minutes=rng.uniform(3, 180))))
        slug = "-".join(word_bytes(title).decode("ascii").split()[:8]) or "artykul"
        section = rng.choice(("wiadomosci", "kraj", "swiat", "polityka", "gospodarka", "region"))
        url = f"https://{outlet.domains[0].removeprefix('www.')}/{section}/{slug}-{10_000_000 + article_id}"
        if article_id % 997 == 0:
            if canonical_url(url) != url:
                raise RuntimeError(f"a synthetic URL is not in canonical form: {url}")
            if word_count(text) != len(text.split()):
                raise RuntimeError(f"article {article_id}: words not counted as text.split() counts them")
        authors = (
            []
            if credits
            else [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.choice((0, 1, 1, 1, 2)))]
        )
        return Article(
            url=url + ("?utm_source=rss&utm_medium=feed" if rng.random() < 0.15 else ""),
            canonical_url=url,
            title=title,
            authors=authors,
            published=published,
            published_source=origin if published else None,
            modified=modified,
            date_candidates=candidates,
            lead=lead,
            text=text,
            language="pl",
            paywalled=outlet.group == "business" and rng.random() < 0.1,
            words=word_count(text),
            fetched_at=iso(at - timedelta(seconds=rng.randint(1, 3))),
            credits=credits,
        )

    def _new(
        self, spec: Spec, article_id: int, run: int, start: datetime, at: datetime
    ) -> tuple[str, Article, Verdict, int]:
        rng = self.rng
        if spec.copy_of is not None:  # a wire copy: the same body (and maybe a line more), its own headline
            original, kind, _outlet = self.stored[spec.copy_of]
            extra = "\nCzytaj też: " + self.text.title() if rng.random() < 0.5 else ""
            texts = (self.text.title(), original.lead, original.text + extra)
            article = self._article(
                article_id, spec.outlet, start, at, texts, [rng.choice(("PAP", "aja/PAP"))]
            )
            return spec.outlet.name, article, self._verdict(kind, article), self.stories[spec.copy_of]
        index = rng.choices(range(len(self.sources)), cum_weights=STATE["weights"])[0]
        outlet = self.sources[index]
        roll = rng.random()
        kind = "story" if roll < STORY_SHARE else "mention" if roll < STORY_SHARE + MENTION_SHARE else "plain"
        wire = rng.random() < WIRE_SHARE
        article = self._article(article_id, outlet, start, at, self._texts(kind), ["PAP"] if wire else [])
        self.stored[article_id] = (article, kind, outlet)
        if wire:
            self.stories[article_id] = article_id
            for _ in range(rng.choice((1, 1, 2, 3))):
                later, other = run + rng.randint(1, 8), self.sources[rng.randrange(len(self.sources))]
                if later < self.last and other.name != outlet.name:
                    self.due.setdefault(later, []).append(Spec("new", kind, article_id, other))
        elif rng.random() < REVISED_SHARE and run + 1 < self.last:
            later = min(self.last - 1, run + rng.randint(1, 16))
            self.due.setdefault(later, []).append(Spec("revise", kind, article_id=article_id))
        return outlet.name, article, self._verdict(kind, article), article_id

    def _revised(self, spec: Spec, start: datetime, at: datetime) -> tuple[str, Article, Verdict]:
        rng = self.rng
        assert spec.article_id is not None
        before, kind, outlet = self.stored[spec.article_id]
        title = self.text.title() if rng.random() < 0.6 else before.title
        lead = self.text.lead() if rng.random() < 0.2 else before.lead
        text = before.text
        if rng.random() < 0.6 or (title == before.title and lead == before.lead):
            text += "\n" + self.text.body(300)
        modified = warsaw(start - timedelta(minutes=rng.uniform(1, 14)))
        fields = {**before.to_dict(), "title": title, "lead": lead, "text": text, "words": word_count(text)}
        fields.update(modified=modified, fetched_at=iso(at - timedelta(seconds=rng.randint(1, 3))))
        article = Article(**fields)
        return outlet.name, article, self._verdict(kind, article)

    def _run(self, run: int) -> tuple[PlannedRun, list[int], list[tuple[Any, ...]]]:
        rng, plan, first_ids = self.rng, self.plan, STATE["first_ids"]
        start = plan.run_start(run)
        slots = first_ids[run + 1] - first_ids[run]
        due = self.due.pop(run, [])
        copies = [s for s in due if s.what == "new"][:slots]
        specs = (
            copies
            + [Spec("new") for _ in range(slots - len(copies))]
            + [s for s in due if s.what == "revise"]
        )
        rng.shuffle(specs)
        counts = {s.name: {"new": 0, "updated": 0, "flagged": 0, "skipped": 0} for s in self.sources}
        pages = [
            (self.sources[rng.randrange(len(self.sources))], rng.choice(NON_ARTICLE_REASONS))
            for _ in range(sum(rng.random() < NON_ARTICLE_SHARE for _ in range(slots)))
        ]
        batches = max(1 if pages else 0, math.ceil(len(specs) / BATCH))
        planned = PlannedRun(run + 1, iso(start), "", "finished", {}, [])
        new_ids: list[int] = []
        revisions: list[tuple[Any, ...]] = []
        next_id, second = first_ids[run], 3
        for number in range(batches):
            second += rng.randint(1, 4)
            at = start + timedelta(seconds=second)
            batch = Batch(iso(at))
            for spec in specs[number * BATCH : (number + 1) * BATCH]:
                if spec.what == "new":
                    source, article, verdict, story = self._new(spec, next_id, run, start, at)
                    self.rows[next_id] = new_article(next_id, source, article, verdict, batch.at, story)
                    new_ids.append(next_id)
                    next_id += 1
                    counts[source]["new"] += 1
                    announced = article.published if rng.random() < 0.7 else None
                else:
                    source, article, verdict = self._revised(spec, start, at)
                    assert spec.article_id is not None
                    revision = refetch(self.rows[spec.article_id], source, article, verdict, batch.at)
                    revisions.extend([revision] if revision else [])
                    counts[source]["updated"] += 1
                    announced = article.modified
                counts[source]["flagged"] += verdict.relevance == "primary"
                batch.items.append((source, article, verdict))
                batch.announced.append((article.canonical_url, announced))
            for outlet, reason in pages[number::batches]:
                serial = rng.randrange(10**9)
                batch.non_articles[
                    f"https://{outlet.domains[0].removeprefix('www.')}/wideo/material-{serial}"
                ] = (outlet.name, reason)
                counts[outlet.name]["skipped"] += 1
            planned.batches.append(batch)
        assert next_id == first_ids[run + 1]
        planned.finished = iso(start + timedelta(seconds=second + rng.randint(2, 30)))
        if rng.random() < plan.interrupted and run + 1 < plan.runs:
            planned.status = INTERRUPTED
        planned.per_source = {name: self._counts(name, c, run) for name, c in counts.items()}
        if planned.status == "finished":
            planned.feeds = [
                (url, f'"{zlib.crc32(f"{url} {run}".encode()):08x}"', None)
                for s in self.sources
                for url in (*s.feeds, *s.sitemaps)
            ]
        return planned, new_ids, revisions

    def _counts(self, name: str, counts: dict[str, int], run: int) -> dict[str, Any]:
        rng = self.rng
        failed = int(rng.random() < 0.004)
        feeds_failed = int(rng.random() < 0.002)
        unchanged = rng.randint(5, 40)
        stored = counts["new"] + counts["updated"]
        errors = [f"https://{name}.example/artykul-{run}: HTTP 404"] if failed else []
        if feeds_failed:
            errors.append(f"https://{name}.example/rss.xml: HTTP 503")
        return {
            **counts,
            "unchanged": unchanged,
            "failed": failed,
            "feeds_failed": feeds_failed,
            "discovered": stored + unchanged + counts["skipped"] + failed,
            "fetched": stored + counts["skipped"] + failed,
            "stored": stored,
            "errors": errors,
            "duration": round(rng.uniform(1.0, 40.0), 1),
        }


def make_chunk(chunk: int) -> list[tuple[PlannedRun, list[int], list[tuple[Any, ...]]]]:
    return ChunkMaker(chunk).make()
