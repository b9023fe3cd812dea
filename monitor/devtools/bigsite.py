"""A generated news site of many article pages, served by the loopback mirror (:mod:`monitor.devtools.mirror`): the
crawl benchmark (``bench/bench_crawl.py``) and the crawl-at-scale tests measure the crawl on it.

``write_site(folder, articles=5000, outlets=8)`` writes one ``<outlet>/site.toml`` per outlet with its pages: news
sitemaps of at most 250 links each and an RSS feed of the newest 50 (the same URLs again, as outlets do), article
pages shaped like a portal's (a head with metadata and JSON-LD, navigation, a lead, paragraphs of Polish-like
prose with "read also" boxes, related links and a long footer; 50–90 kB), and a video page every 50th link (not an
article). Every 25th article is about Ukraine–Russia peace talks, so the rules flag some. The text is made from
a fixed vocabulary with a seed: the same call writes the same bytes.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.devtools.mirror import toml_value


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "rada miasta spotkanie mieszkańcy budżet inwestycja droga szkoła szpital tramwaj autobus osiedle park "
    "urząd wojewoda marszałek sejmik ustawa projekt minister rząd posłowie senat komisja głosowanie poprawka "
    "przetarg wykonawca umowa termin koszt milion złotych remont budowa most wiadukt obwodnica rondo ulica "
    "pogoda śnieg mróz deszcz wiatr ostrzeżenie synoptycy temperatura weekend tydzień miesiąc rok wiosna "
    "policja straż pożar wypadek kierowca samochód pociąg lotnisko dworzec podróżni opóźnienie kolej "
    "lekarze pacjenci przychodnia kolejka oddział dyrektor nauczyciele uczniowie matura egzamin studenci "
    "uczelnia badania naukowcy firma pracownicy płace podwyżka inflacja ceny sklep rynek bank kredyt "
    "gospodarka eksport rolnicy zboże mleko festiwal koncert teatr wystawa muzeum biblioteka kino mecz "
    "drużyna trener bramka sezon liga kibice stadion zawodnik wynik turniej rekord medal"
)
JOIN = _words("i oraz a ale że który która które przez dla bez przy podczas według między także jednak już")
VERBS = _words(
    "zapowiedział poinformowała przekazali ocenił podkreśliła dodał zwrócili uwagę przypomniał wyjaśniła "
    "zaznaczył ogłosili potwierdziła zdecydowali zaproponował skrytykowała przyjęli"
)
PEACE = (
    "Delegacje Ukrainy i Rosji mają wznowić rozmowy pokojowe w Genewie, a specjalny wysłannik Steve Witkoff "
    "spotkał się w tej sprawie z Władimirem Putinem na Kremlu.",
    "Prezydent Wołodymyr Zełenski powiedział, że Kijów jest gotów do negocjacji o zawieszeniu broni, jeśli "
    "Moskwa przyjmie gwarancje bezpieczeństwa dla Ukrainy.",
    "Rzecznik Kremla Dmitrij Pieskow przekazał, że porozumienie pokojowe wymaga jeszcze uzgodnienia szczegółów "
    "planu pokojowego przedstawionego przez Waszyngton.",
)
SITEMAP_LINKS = 250
FEED_LINKS = 50
VIDEO_EVERY = 50
PEACE_EVERY = 25
START = datetime(2026, 1, 14, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Link:
    outlet: str
    number: int
    url: str
    published: datetime
    video: bool
    peace: bool


def host_of(outlet: str) -> str:
    return f"www.{outlet}.example.pl"


def links_of(outlet: str, index: int, count: int) -> list[Link]:
    """The outlet's ``count`` links, newest first (one every 7 minutes back from a fixed morning)."""
    links = []
    for n in range(count):
        number = index * 1_000_000 + n
        video = n % VIDEO_EVERY == VIDEO_EVERY - 1
        url = f"https://{host_of(outlet)}/{'wideo' if video else 'kraj'}/artykul-{number}.html"
        links.append(Link(outlet, number, url, START - timedelta(minutes=7 * n), video, n % PEACE_EVERY == 3))
    return links


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
    words.insert(rng.randint(1, len(words) - 1), rng.choice(VERBS))
    words.insert(rng.randint(1, len(words) - 1), rng.choice(JOIN))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def _nav(rng: random.Random, host: str, count: int, cls: str) -> str:
    items = "".join(
        f'<li class="{cls}__item"><a href="https://{host}/dzial/{rng.choice(WORDS)}-{i}" '
        f'class="{cls}__link">{html.escape(rng.choice(WORDS).capitalize())}</a></li>'
        for i in range(count)
    )
    return f'<ul class="{cls}">{items}</ul>'


def _related(rng: random.Random, link: Link, count: int) -> str:
    items = []
    for i in range(count):
        other = f"https://{host_of(link.outlet)}/kraj/artykul-{link.number + 1000 + i}.html"
        title = html.escape(sentence(rng)[:80])
        items.append(
            f'<article class="teaser"><a href="{other}"><img src="https://img.example.pl/{i}.jpg" alt="" '
            f'loading="lazy" width="320" height="180"><h3 class="teaser__title">{title}</h3></a></article>'
        )
    return '<section class="related"><h2>Zobacz także</h2>' + "".join(items) + "</section>"


def article_page(link: Link) -> str:
    """One article page (50–90 kB), or a video page with a player and a caption when the link is a video."""
    rng = random.Random(link.number)
    host = host_of(link.outlet)
    title = sentence(rng)[:-1]
    if link.peace:
        title = "Rozmowy pokojowe w Genewie: " + title
    when = link.published.isoformat(timespec="seconds")
    author = (
        f"{rng.choice(['Anna', 'Piotr', 'Ewa', 'Marek'])} {rng.choice(['Nowak', 'Lis', 'Wójcik', 'Zając'])}"
    )
    jsonld = {
        "@context": "https://schema.org",
        "@type": "VideoObject" if link.video else "NewsArticle",
        "headline": title,
        "datePublished": when,
        "author": {"@type": "Person", "name": author},
        "mainEntityOfPage": link.url,
    }
    script = "".join(
        f"window.cfg{i}={json.dumps({'k': rng.choice(WORDS), 'v': [rng.random() for _ in range(8)]})};"
        for i in range(40)
    )
    style = "".join(
        f".c{i}{{margin:{i % 9}px;padding:{i % 7}px;color:#{i * 4099 % 0xFFFFFF:06x}}}" for i in range(150)
    )
    head = (
        f"<!DOCTYPE html><html lang='pl'><head><meta charset='utf-8'><title>{html.escape(title)} - "
        f"{link.outlet}</title><link rel='canonical' href='{link.url}'>"
        f"<meta property='og:title' content='{html.escape(title)}'><meta property='og:url' content='{link.url}'>"
        f"<meta property='article:published_time' content='{when}'><meta name='author' content='{author}'>"
        f'<script type="application/ld+json">{json.dumps(jsonld, ensure_ascii=False)}</script>'
        f"<style>{style}</style><script>{script}</script></head>"
    )
    top = (
        f'<body><div class="cookie">Ta strona używa plików cookie. <a href="https://{host}/polityka">Więcej</a>'
        f"</div><header><a href='https://{host}/'>{link.outlet}</a>{_nav(rng, host, 60, 'menu')}</header>"
        f"<nav class='crumbs'><a href='https://{host}/'>Start</a> › <a href='https://{host}/kraj'>Kraj</a></nav>"
    )
    if link.video:
        main = (
            f"<main><h1>{html.escape(title)}</h1><div class='player'><video src='https://v.example.pl/"
            f"{link.number}.mp4' controls></video></div><p class='caption'>{html.escape(sentence(rng))}</p></main>"
        )
    else:
        paragraphs = [paragraph(rng) for _ in range(rng.randint(8, 14))]
        if link.peace:
            paragraphs[1:1] = list(PEACE)
        body = []
        for i, text in enumerate(paragraphs):
            body.append(f"<p>{html.escape(text)}</p>")
            if i in (3, 8):
                other = f"https://{host}/kraj/artykul-{link.number + 500 + i}.html"
                body.append(
                    f"<div class='also'>Czytaj także: <a href='{other}'>{html.escape(sentence(rng))}</a></div>"
                )
        main = (
            f"<main><article><h1>{html.escape(title)}</h1><div class='byline'>{author} · "
            f"<time datetime='{when}'>{link.published.strftime('%d.%m.%Y %H:%M')}</time></div>"
            f"<p class='lead'><strong>{html.escape(paragraph(rng))}</strong></p>{''.join(body)}"
            f"<div class='tags'>{_nav(rng, host, 8, 'tag')}</div></article>{_related(rng, link, 24)}</main>"
        )
    footer = (
        f"<aside class='comments'>Komentarze ({rng.randint(0, 300)})</aside><footer>"
        f"{_nav(rng, host, 90, 'foot')}<p>© 2026 {link.outlet}. Wszelkie prawa zastrzeżone.</p></footer>"
        "</body></html>"
    )
    return head + top + main + footer


def _sitemap(links: list[Link]) -> str:
    entries = "".join(
        f"<url><loc>{html.escape(link.url)}</loc><news:news><news:publication><news:name>x</news:name>"
        "<news:language>pl</news:language></news:publication><news:publication_date>"
        f"{link.published.isoformat(timespec='seconds')}</news:publication_date><news:title>Tekst {link.number}"
        "</news:title></news:news></url>\n"
        for link in links
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + entries + "</urlset>\n"
    )


def _feed(outlet: str, links: list[Link]) -> str:
    items = "".join(
        f"<item><title>Tekst {link.number}</title><link>{html.escape(link.url)}</link>"
        f"<pubDate>{link.published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>\n"
        for link in links
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{outlet}</title>'
        f"<link>https://{host_of(outlet)}/</link><description>x</description>\n{items}</channel></rss>\n"
    )


def write_site(folder: Path, articles: int = 5000, outlets: int = 8) -> dict[str, list[Link]]:
    """Write ``outlets`` sites with ``articles`` links in all (video pages included) under ``folder``; return each
    outlet's links."""
    written: dict[str, list[Link]] = {}
    for index in range(outlets):
        name = f"portal{index}"
        count = articles // outlets + (1 if index < articles % outlets else 0)
        links = links_of(name, index, count)
        site = folder / name
        (site / "a").mkdir(parents=True, exist_ok=True)
        host = host_of(name)
        pages: list[tuple[str, str]] = []
        sitemaps = []
        for start in range(0, len(links), SITEMAP_LINKS):
            url = f"https://{host}/sitemap-news-{start // SITEMAP_LINKS}.xml"
            file = f"sitemap-{start // SITEMAP_LINKS}.xml"
            (site / file).write_text(_sitemap(links[start : start + SITEMAP_LINKS]), encoding="utf-8")
            sitemaps.append(url)
            pages.append((url, file))
        feed = f"https://{host}/rss.xml"
        (site / "rss.xml").write_text(_feed(name, links[:FEED_LINKS]), encoding="utf-8")
        pages.append((feed, "rss.xml"))
        for link in links:
            file = f"a/{link.number}.html"
            (site / file).write_text(article_page(link), encoding="utf-8")
            pages.append((link.url, file))
        source = {
            "name": name,
            "title": f"Portal {index}",
            "domains": [host],
            "feeds": [feed],
            "sitemaps": sitemaps,
            "sections": [],
            "article_pattern": r"/(kraj|wideo)/artykul-\d+\.html$",
        }
        lines = ["[source]", *(f"{key} = {toml_value(value)}" for key, value in source.items())]
        for url, file in pages:
            lines += ["", "[[page]]", f"url = {json.dumps(url)}", f"file = {json.dumps(file)}"]
        (site / "site.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[name] = links
    return written
