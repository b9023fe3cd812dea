"""The rules' commands: ``monitor classify`` (and ``--explain``), ``monitor rescore`` and ``monitor rules check|forms``.

A thin layer over :mod:`monitor.rules` and :class:`monitor.archive.Storage`; ``register(main)`` adds the
commands to the ``monitor`` group.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.common import EXIT_NOTHING_RAN, EXIT_SOME_FAILED, fail
from monitor.cli.fetch import FetchError, fetch_page
from monitor.extract import NotAnArticle, extract_article
from monitor.rules import RulesError, Ruleset, check_examples, classify, explain, load_rules
from monitor.rules.load import inflect

if TYPE_CHECKING:  # the archive's writer is imported by `monitor rescore` only
    from monitor.archive.rescore import RescoreReport

TRANSITIONS = ("newly flagged", "unflagged", "tier changed")


class ExplainError(RuntimeError):
    """The page to explain cannot be read, fetched or extracted; the message says why in one line."""


def read_page(target: str) -> tuple[str, bytes, str | None]:
    """The URL, bytes and content type of a saved page (a path) or of a URL the user gave explicitly."""
    if target.startswith(("http://", "https://")):
        try:
            page = fetch_page(target)
        except FetchError as exc:
            raise ExplainError(f"cannot fetch {exc}") from exc
        return page.url, page.body, page.content_type
    path = Path(target)
    try:
        return path.resolve().as_uri(), path.read_bytes(), None
    except OSError as exc:
        raise ExplainError(f"{target}: cannot read: {exc.strerror or exc}") from exc


def explain_page(ruleset: Ruleset, target: str) -> str:
    """Extract a saved page or a URL and explain its verdict in a few readable lines."""
    url, body, content_type = read_page(target)
    try:
        article = extract_article(url, body, content_type=content_type)
    except NotAnArticle as exc:
        raise ExplainError(f"{target}: not an article: {exc}") from exc
    verdict = classify(ruleset, article.title, article.lead, article.text)
    return explain(ruleset, verdict, f"{article.title or '(no title)'}\n{article.url}")


def format_rescore(report: RescoreReport, show: int, dry_run: bool) -> str:
    moved = report.total - report.unchanged
    if report.finished_before and not report.total and not report.pruned:
        return (
            f"The archive was re-scored with rules {report.ruleset} on {report.finished_before} "
            f"({report.earlier:,} article(s)); no article was stored since. Nothing to do (--restart does it again)."
        )
    lines = []
    lines.append(
        f"{'Would re-score' if dry_run else 'Re-scored'} {report.total:,} article(s) with rules {report.ruleset}: "
        f"{moved:,} changed relevance, {report.unchanged:,} kept it"
    )
    if report.resumed_after and report.total:
        what = "stored since it finished" if report.finished_before else "left when it stopped"
        lines.append(
            f"  (continued after article {report.resumed_after:,}: {report.earlier:,} re-scored before, "
            f"{report.earlier_changed:,} of them changed; these are the articles {what})"
        )
    if report.pruned:
        lines.append(f"  {report.pruned:,} article(s) without a body (pruned) kept their verdicts")
    for name in TRANSITIONS:
        items = report.moved.get(name, [])
        lines.append(f"  {name}: {len(items):,}")
        for item in items[:show]:
            lines.append(f"    {item.before or 'unscored'} → {item.after} ({item.score:g})  {item.title}")
        if len(items) > show:
            lines.append(f"    … and {len(items) - show:,} more")
    if report.transitions:
        lines.append(
            "  by tier: " + ", ".join(f"{a}→{b} {n:,}" for (a, b), n in sorted(report.transitions.items()))
        )
    return "\n".join(lines)


def _rules_or_exit(rules_file: str | None) -> Ruleset:
    try:
        return load_rules(rules_file)
    except RulesError as exc:
        fail(str(exc))


@click.command(name="rescore")
@click.option("--db", default="data/monitor.db", show_default=True, help="SQLite archive to re-score.")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--show", default=20, show_default=True, help="Titles listed per kind of change.")
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1), help="Articles per transaction."
)
@click.option(
    "--processes",
    default=os.cpu_count() or 1,
    show_default="the number of cores",
    type=click.IntRange(1),
    help="Processes classifying (1: in the writer itself).",
)
@click.option("--restart", is_flag=True, help="Start from the first article even if these rules got further.")
def rescore_command(
    db: str, rules_file: str | None, dry_run: bool, show: int, batch_size: int, processes: int, restart: bool
) -> None:
    """Re-classify the stored archive after a rule change and report what changed.

    A stopped or killed rescore continues where it stopped when run again with the same rules; a finished one
    only scores the articles stored since. Progress goes to stderr (a bar on a terminal, a line every 10 s
    otherwise).
    """
    from monitor.archive import Storage, StorageError
    from monitor.archive.rescore import Rescorer
    from monitor.cli.progress import Progress

    ruleset = _rules_or_exit(rules_file)
    if not Path(db).is_file():
        fail(f"{db}: no such database")
    bar: Progress | None = None
    try:
        storage = Storage(db)
        try:
            rescorer = Rescorer(
                storage,
                ruleset,
                rules_path=rules_file,
                processes=processes,
                batch_size=batch_size,
                dry_run=dry_run,
            )
            if restart:
                rescorer.restart()
            bar = Progress("rescore", rescorer.remaining())
            report = rescorer.run(bar.update)
        finally:
            if bar is not None:
                bar.close()
            storage.close()
    except StorageError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("stopped; what was re-scored is kept: run the same command again to continue", 130)
    click.echo(format_rescore(report, show, dry_run))


@click.group(name="rules")
def rules_group() -> None:
    """Check a rules file and see how names inflect."""


@rules_group.command(name="check")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
def check_command(rules_file: str | None) -> None:
    """Validate a rules file and run every rule's examples; exit 1 when an example misbehaves."""
    ruleset = _rules_or_exit(rules_file)
    problems = check_examples(ruleset)
    examples = sum(len(r.examples_fire) + len(r.examples_not) for r in ruleset.rules)
    for line in problems:
        click.echo(line, err=True)
    click.echo(
        f"{ruleset.path or 'rules'}: {len(ruleset.rules)} rules, {len(ruleset.groups)} groups, "
        f"{len(ruleset.entities)} entities, {examples} examples, {len(problems)} failing"
    )
    sys.exit(1 if problems else 0)


@rules_group.command(name="forms")
@click.argument("names", nargs=-1, required=True)
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
def forms_command(names: tuple[str, ...], rules_file: str | None) -> None:
    """Print the forms an entity id or a WORD:PARADIGM matches (e.g. `pieskow`, `szczyt:masculine`)."""
    from monitor.rules.text import fold_word

    ruleset = _rules_or_exit(rules_file)
    status = 0
    for name in names:
        if name in ruleset.entities:
            entity = ruleset.entities[name]
            paradigm = ruleset.paradigms.get(entity.paradigm or "")
            forms: set[str] = set()
            for form in entity.forms:
                *head, last = fold_word(form).split()
                tails = inflect(last, paradigm, _softening(ruleset)) if paradigm else {last}
                forms |= {" ".join([*head, t]) for t in tails}
            extra = f"; aliases: {', '.join(entity.aliases)}" if entity.aliases else ""
            click.echo(
                f"{name} ({entity.name}, {entity.type}, {entity.side}): {', '.join(sorted(forms))}{extra}"
            )
        elif ":" in name and name.split(":", 1)[1] in ruleset.paradigms:
            base, paradigm_name = name.split(":", 1)
            forms = set(inflect(fold_word(base), ruleset.paradigms[paradigm_name], _softening(ruleset)))
            click.echo(f"{name}: {', '.join(sorted(forms))}")
        else:
            click.echo(
                f"{name}: not an entity id nor WORD:PARADIGM ({', '.join(ruleset.paradigms)})", err=True
            )
            status = 1
    sys.exit(status)


def _softening(ruleset: Ruleset) -> dict[str, str]:
    return dict(ruleset.softening)


TEXT_FIELDS = ("title", "lead", "text")


def classify_input(line: bytes) -> dict[str, Any]:
    """One JSON line of ``monitor classify``'s input: an object whose title, lead and text are strings or null.
    Raises ValueError saying what is wrong."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start + 1})") from None
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    for name in TEXT_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            raise ValueError(f"field {name!r} must be a string or null, not {type(record[name]).__name__}")
    return record


@click.command(name="classify")
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
@click.option(
    "--explain",
    "explain_target",
    metavar="PAGE.html|URL",
    help="Explain the verdict on one saved page or URL (fetched only because you gave it) instead.",
)
def classify_command(file: Any, rules_file: str | None, explain_target: str | None) -> None:
    """Classify JSON lines {"id","title","lead","text","url"} (stdin when no FILE); print one verdict per line.

    A bad line (not JSON, not UTF-8, a field that is not a string) is one error line naming its number; the
    others are still classified. Exit status 0 all lines read, 1 some were bad, 2 none could be read.

    With --explain, print which rules fired on one page, on which words, in which field, with what weight,
    against which threshold.
    """
    try:
        ruleset = load_rules(rules_file)
    except RulesError as exc:
        fail(str(exc))
    if explain_target:
        try:
            click.echo(explain_page(ruleset, explain_target))
        except ExplainError as exc:
            fail(str(exc))
        return
    name = "<stdin>" if getattr(file, "name", "-") in ("-", "<stdin>") else file.name
    good = bad = 0
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            record = classify_input(line)
        except ValueError as exc:
            click.echo(f"error: {name}:{number}: {' '.join(str(exc).split())}", err=True)
            bad += 1
            continue
        verdict = classify(ruleset, record.get("title"), record.get("lead"), record.get("text"))
        click.echo(json.dumps({"id": record.get("id"), **verdict.to_dict()}, ensure_ascii=False))
        good += 1
    if bad:
        sys.exit(EXIT_SOME_FAILED if good else EXIT_NOTHING_RAN)


def register(main: click.Group) -> None:
    """Add ``classify``, ``rescore`` and ``rules`` to the ``monitor`` command."""
    main.add_command(classify_command)
    main.add_command(rescore_command)
    main.add_command(rules_group)
