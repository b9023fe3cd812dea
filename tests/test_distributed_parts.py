"""The parts of the distributed crawl one at a time (issue #16): stream messages read strictly, the lease on the
queue, the archive's memory in Redis and its bound, per-run counters, and URLs printed without passwords."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, replace

import pytest
from test_distributed import needs_redis, redis_server

from monitor.discovery.memory import FeedState
from monitor.distributed import memory
from monitor.distributed import redis_url as names
from monitor.distributed.lease import Leases
from monitor.distributed.messages import Message, MessageError, article_message, decode, page_message
from monitor.extract import Article

ARTICLE = Article(
    url="http://127.0.0.1:1/a?utm=x",
    canonical_url="http://127.0.0.1:1/a",
    title="Rozmowy pokojowe w Genewie",
    authors=["Anna Nowak"],
    published="2026-01-14T10:32:00+01:00",
    published_source="json-ld",
    modified=None,
    date_candidates=[{"value": "2026-01-14T10:32:00+01:00", "source": "json-ld"}],
    lead="Delegacje spotkają się w czwartek.",
    text="Delegacje Ukrainy i Rosji mają wznowić rozmowy. " * 10,
    language="pl",
    paywalled=False,
    words=80,
    fetched_at="2026-01-14T11:00:00+00:00",
    credits=["PAP"],
)


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def client(redis):
    client = redis.client()
    client.flushdb()
    yield client
    client.close()


def test_an_article_travels_unchanged():
    message = decode(article_message("7", "interia", ARTICLE, "http://127.0.0.1:1/a", None).encode())
    assert (message.kind, message.run) == ("article", "7")
    assert message.data["article"] == ARTICLE
    assert (message.data["source"], message.data["key"], message.data["announced"]) == (
        "interia",
        "http://127.0.0.1:1/a",
        None,
    )
    page = decode(
        {b"m": page_message("7", "onet", "http://x/v", "video", "2026-01-01").encode()["m"].encode()}
    )
    assert page.data == {"source": "onet", "key": "http://x/v", "reason": "video", "announced": "2026-01-01"}


def _article(**changes: object) -> dict[str, str]:
    body = {
        "kind": "article",
        "run": "1",
        "source": "a",
        "key": None,
        "announced": None,
        "article": asdict(ARTICLE),
    }
    body["article"].update(changes)
    return {"m": json.dumps(body)}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, "no 'm' field"),
        ({"m": "{"}, "not JSON"),
        ({"m": b"\xff"}, "not JSON"),
        ({"m": "[1]"}, "not a JSON object"),
        ({"m": '{"kind": "what", "run": "1"}'}, "unknown kind"),
        ({"m": '{"kind": "seeded"}'}, "run is not"),
        ({"m": '{"kind": "page", "run": "1", "source": "a", "key": "k"}'}, "reason is not"),
        ({"m": '{"kind": "counts", "run": "1", "counts": {"a": {"new": true}}}'}, "not numbers"),
        ({"m": '{"kind": "counts", "run": "1", "counts": {}, "errors": {"a": "x"}}'}, "errors"),
        ({"m": '{"kind": "run", "run": "1", "outlets": [{}], "started": "x"}'}, "outlets"),
        ({"m": '{"kind": "feed", "run": "1"}'}, "url is not"),
        (_article(words="many"), "article.words"),
        (_article(text=""), "article.text"),
        (_article(authors="Anna"), "article.authors"),
        ({"m": json.dumps({"kind": "article", "run": "1", "source": "a", "article": {"url": "u"}})}, "lacks"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(fields, reason):
    with pytest.raises(MessageError, match=reason):
        decode(fields)


def test_a_newer_worker_s_extra_article_field_is_ignored():
    assert decode(_article(sentiment="calm")).data["article"] == ARTICLE


def test_printed_urls_hide_the_password():
    assert names.shown("redis://:s3cret@10.0.0.5:6379/2") == "redis://:***@10.0.0.5:6379/2"
    assert names.shown("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(names.RedisUnavailable, match=r"^redis://:\*\*\*@127.0.0.1:1/0: cannot reach Redis"):
        names.connect("redis://:s3cret@127.0.0.1:1/0", timeout=1)


@needs_redis
def test_a_popped_request_is_leased_until_released_or_expired(client):
    leases = Leases(client, ttl=0.3, owner="w1")
    for priority, data in ((0, b"feed"), (5, b"article")):
        client.zadd(names.QUEUE, {data: -priority})
    lease, data = leases.pop()
    assert data == b"article"  # the highest priority first, as scrapy-redis's queue
    assert client.zcard(names.QUEUE) == 1 and client.hget(names.LEASES, lease) == b"article"
    assert leases.requeue_expired() == 0  # not yet expired
    assert leases.renew([lease]) == 1
    time.sleep(0.5)
    assert leases.requeue_expired() == 1  # its worker died: back on the queue, with its priority
    assert client.zscore(names.QUEUE, b"article") == -5 and client.hlen(names.LEASES) == 0
    first, _ = leases.pop()
    second, _ = leases.pop()
    assert leases.pop() is None
    leases.release([first])
    assert leases.requeue([second]) == 1  # a worker stopping with a request unhandled gives it back
    assert client.zcard(names.QUEUE) == 1 and leases.held() == 0
    assert leases.renew([first]) == 0  # a released lease is not renewed back into life


@needs_redis
def test_an_article_is_queued_once_per_run(client):
    leases = Leases(client, ttl=10)
    run1, run2 = names.run_articles_key("1"), names.run_articles_key("2")
    assert leases.push_once(run1, "http://a/1", 0, b"r1", 60)
    assert not leases.push_once(run1, "http://a/1", 0, b"r1-again", 60)
    assert leases.push_once(run2, "http://a/1", 0, b"r2", 60)  # the next run asks again
    assert client.zcard(names.QUEUE) == 2 and 0 < client.ttl(run1) <= 60


@needs_redis
def test_an_article_found_unchanged_is_counted_once_per_run_whichever_worker_finds_it(client):
    """A stored, unchanged article is not queued, but two workers finding it on two pages of one outlet (a feed,
    a section page) must count it once: its claim shares the run's set with the queued articles."""
    first, second = Leases(client, ttl=10), Leases(client, ttl=10)
    run = names.run_articles_key("7")
    assert first.claim(run, "http://a/2", 60)
    assert not second.claim(run, "http://a/2", 60)
    assert not second.push_once(
        run, "http://a/2", 0, b"r", 60
    )  # nor queued by a worker that wants it fetched
    assert second.push_once(run, "http://a/3", 0, b"r", 60) and not first.claim(run, "http://a/3", 60)
    assert client.zcard(names.QUEUE) == 1 and 0 < client.ttl(run) <= 60


@needs_redis
def test_the_memory_answers_only_what_is_asked(client):
    memory.publish(
        client,
        {"http://a/1": "2026-01-02T10:00:00+01:00", "http://a/2": None},
        {"http://a/1": "2026-01-02T09:00:00+01:00", "http://a/3": None},
        [FeedState("http://a/feed", '"v1"', "Tue, 02 Jan 2026 10:00:00 GMT")],
    )
    recall = memory.RedisRecall(client, "redis://test")
    remembered = recall.recall(["http://a/1", "http://a/2", "http://a/3", "http://a/9"])
    assert remembered.known == {"http://a/1": "2026-01-02T10:00:00+01:00", "http://a/2": None}
    assert remembered.announced == {"http://a/1": "2026-01-02T09:00:00+01:00", "http://a/3": None}
    assert recall.feed("http://a/feed") == FeedState("http://a/feed", '"v1"', "Tue, 02 Jan 2026 10:00:00 GMT")
    assert recall.feed("http://a/other") is None
    client.hset(memory.FEEDS, "http://a/bad", "not json")
    assert recall.feed("http://a/bad") is None  # read in full rather than trusted


@needs_redis
def test_the_memory_is_bounded_by_age_and_size(client):
    memory.publish(client, {f"http://a/{i}": None for i in range(10)})
    client.zadd(memory.AGE, {"http://a/0": time.time() - 40 * 86400, "http://a/1": time.time() - 40 * 86400})
    assert memory.trim(client, days=30, most=1000) == 2
    assert not client.hexists(memory.KNOWN, "http://a/0") and client.hexists(memory.KNOWN, "http://a/2")
    client.zadd(memory.AGE, {"http://a/2": time.time() - 60})  # the oldest of those left
    assert memory.trim(client, days=30, most=5) == 3
    assert client.hlen(memory.KNOWN) == 5 and not client.hexists(memory.KNOWN, "http://a/2")


def test_a_worker_counts_for_the_run_it_is_handling():
    from types import SimpleNamespace

    from scrapy.settings import Settings

    from monitor.distributed.runs import RunStats, current_run

    stats = RunStats(SimpleNamespace(settings=Settings()))  # type: ignore[arg-type]
    stats.inc_value("monitor/interia/discovered")  # no run: Scrapy's stats only
    token = current_run.set("4")
    try:
        stats.inc_value("monitor/interia/discovered", 3)
        stats.inc_value("monitor/recall/urls", 9)  # not a counter of the run record
        stats.set_value("monitor/interia/errors", ["http://a/1: HTTP 404"])
        stats.set_value(
            "monitor/interia/errors", [*stats.get_value("monitor/interia/errors"), "http://a/2: x"]
        )
        stats.set_value("monitor/interia/seconds", 3.5)
    finally:
        current_run.reset(token)
    assert stats.get_value("monitor/interia/discovered") == 4
    assert stats.get_value("monitor/interia/errors") is None  # kept per run, not across runs
    (message,) = stats.drain()
    assert isinstance(message, Message) and message.run == "4"
    assert message.data["counts"] == {"interia": {"discovered": 3}}
    assert message.data["errors"] == {"interia": ["http://a/1: HTTP 404", "http://a/2: x"]}
    assert set(message.data["active"]) == {"interia"}
    assert stats.drain() == []


def test_a_worker_s_verdict_travels_with_its_article():
    from monitor.rules import Verdict
    from monitor.rules.model import Match

    verdict = Verdict("primary", 7.5, "peace-talks@3", [Match("talks", "g", "rozmowy", "body", 10, 17, "…")])
    message = decode(article_message("1", "a", ARTICLE, None, None, verdict).encode())
    assert message.data["verdict"] == verdict
    assert decode(article_message("1", "a", ARTICLE, None, None).encode()).data["verdict"] is None
    bad = json.loads(article_message("1", "a", ARTICLE, None, None, verdict).encode()["m"])
    bad["verdict"]["matches"] = [{"rule": "x"}]
    with pytest.raises(MessageError, match="verdict.matches"):
        decode({"m": json.dumps(bad)})


@needs_redis
def test_the_writer_keeps_a_verdict_of_its_own_rules_only(client, tmp_path):
    from monitor.archive import Storage
    from monitor.distributed.writer import Writer
    from monitor.rules import Verdict, load_rules

    ruleset = load_rules()
    storage = Storage(tmp_path / "archive.db")
    try:
        writer = Writer(client, storage, ruleset)
        writer.prepare()
        own = Verdict("mention", 1.25, ruleset.version, [])
        other = replace(ARTICLE, url="http://127.0.0.1:1/b", canonical_url="http://127.0.0.1:1/b")
        stale = Verdict("none", 0.0, "an-older-version", [])
        entries = [
            ("1-1", article_message("1", "a", ARTICLE, None, None, own).encode()),
            ("1-2", article_message("1", "a", other, None, None, stale).encode()),
        ]
        writer.handle(entries)
        rows = dict(storage.conn.execute("SELECT url, relevance || ' ' || ruleset FROM articles"))
    finally:
        storage.close()
    assert rows[ARTICLE.canonical_url] == f"mention {ruleset.version}"  # kept: the writer's own rules
    assert rows[other.canonical_url] == f"primary {ruleset.version}"  # classified again by the writer's rules
