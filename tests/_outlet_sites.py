"""A mirror site for every outlet of a sources file, built from the real URLs of fixtures/source_urls.tsv.

Each outlet's feeds, news sitemaps and section pages list its real article URLs and its real non-article URLs;
each article URL serves a plain article page written here. Crawling it shows that every outlet's addresses,
domains and article_pattern work together on real URL shapes: its articles are stored and nothing else is.
"""

from __future__ import annotations

import csv
import html
import json
import tomllib
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from w3lib.url import safe_url_string

from monitor.devtools.mirror import toml_value

KEEP = ("name", "title", "group", "domains", "feeds", "sitemaps", "sections", "article_pattern", "extract")


def read_urls(tsv: Path) -> dict[str, dict[str, list[str]]]:
    """outlet → {"article": [...], "other": [...]} from the TSV (kinds other than article are "other")."""
    urls: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"article": [], "other": []})
    with tsv.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            urls[row["outlet"]]["article" if row["kind"] == "article" else "other"].append(row["url"])
    return dict(urls)


def _address(entry: object) -> str:
    return entry["url"] if isinstance(entry, dict) else str(entry)


def _rss(title: str, links: list[str]) -> str:
    items = "".join(
        f"<item><title>Tekst {i}</title><link>{html.escape(url)}</link>"
        f"<pubDate>Wed, 14 Jan 2026 {8 + i % 10:02d}:{i % 60:02d}:00 +0100</pubDate></item>\n"
        for i, url in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>https://example.invalid/</link><description>x</description>\n"
        f"{items}</channel></rss>\n"
    )


def _sitemap(links: list[str]) -> str:
    entries = "".join(
        f"<url><loc>{html.escape(url)}</loc><news:news><news:publication><news:name>x</news:name>"
        "<news:language>pl</news:language></news:publication>"
        f"<news:publication_date>2026-01-14T{8 + i % 10:02d}:00:00+01:00</news:publication_date>"
        f"<news:title>Tekst {i}</news:title></news:news></url>\n"
        for i, url in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + entries + "</urlset>\n"
    )


def _section(links: list[str]) -> str:
    anchors = "\n".join(f'<li><a href="{html.escape(u)}">Tekst {i}</a></li>' for i, u in enumerate(links))
    return f"<!DOCTYPE html><html lang='pl'><head><meta charset='utf-8'><title>Dział</title></head><body><ul>{anchors}</ul></body></html>"


def _article(outlet: str, number: int, url: str) -> str:
    slug = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1][:60]
    title = f"Wiadomość numer {number} z redakcji {outlet}: {slug}"
    paragraphs = [
        f"Redakcja {outlet} opisuje w tym tekście sprawę numer {number}. Radni miasta spotkali się we wtorek, "
        "aby omówić plan budowy nowej linii tramwajowej, która ma połączyć osiedla na północy z centrum.",
        "Według urzędników prace mogą ruszyć jeszcze w tym roku, a pierwsze wagony pojadą po trzech latach. "
        "Mieszkańcy pytali o wycinkę drzew, o hałas i o to, czy przystanki będą dostępne dla wózków.",
        f"Przewodniczący rady zapowiedział kolejne spotkanie w przyszłym miesiącu. Do sprawy {number} wrócimy, "
        "gdy poznamy wyniki przetargu i szczegółowy harmonogram robót na poszczególnych odcinkach trasy.",
    ]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='pl'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<meta property='article:published_time' content='2026-01-14T10:{number % 60:02d}:00+01:00'></head>"
        f"<body><article><h1>{html.escape(title)}</h1><time datetime='2026-01-14T10:{number % 60:02d}:00+01:00'>"
        f"14 stycznia 2026</time>\n{body}</article></body></html>"
    )


def write_sites(sources_toml: Path, tsv: Path, folder: Path) -> dict[str, list[str]]:
    """Write one mirror site per enabled outlet that has real URLs; return outlet → its article URLs."""
    outlets = tomllib.loads(sources_toml.read_text(encoding="utf-8"))["outlet"]
    urls = read_urls(tsv)
    expected: dict[str, list[str]] = {}
    for outlet in outlets:
        name = outlet["name"]
        if not outlet.get("enabled", True) or name not in urls:
            continue
        articles, others = urls[name]["article"], urls[name]["other"]
        addresses = {
            key: [_address(a) for a in outlet.get(key, [])] for key in ("feeds", "sitemaps", "sections")
        }
        listed = articles + [u for u in others if u not in {a for v in addresses.values() for a in v}]
        site = folder / name
        site.mkdir(parents=True)
        pages: list[tuple[str, str, str]] = []  # url, file name, content
        for i, url in enumerate(addresses["feeds"]):
            pages.append((url, f"feed{i}.xml", _rss(outlet.get("title", name), listed)))
        for i, url in enumerate(addresses["sitemaps"]):
            pages.append((url, f"sitemap{i}.xml", _sitemap(listed)))
        for i, url in enumerate(addresses["sections"]):
            pages.append((url, f"section{i}.html", _section(listed)))
        for i, url in enumerate(articles):
            pages.append((url, f"article{i}.html", _article(name, i, url)))
        for i, url in enumerate(others):
            if url not in {p[0] for p in pages}:
                pages.append((url, f"other{i}.html", _section([])))
        lines = ["[source]"]
        lines += [f"{key} = {toml_value(outlet[key])}" for key in KEEP if key in outlet]
        for url, file, content in pages:
            (site / file).write_text(content, encoding="utf-8")
            lines += ["", "[[page]]", f"url = {json.dumps(safe_url_string(url))}", f'file = "{file}"']
        (site / "site.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        expected[name] = articles
    return expected
