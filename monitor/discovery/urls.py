"""URL handling: canonical form, domain membership, article-pattern targets. Pure functions."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only track where a click came from; they never change the story.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "from",
        "ref",
        "src",
        "srcc",
        "source",
        "amp",
        "_amp",
        "outputType",
        "utm",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_")
_SESSION_PARAM = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/;?]*", re.IGNORECASE)
_AMP_SEGMENT = re.compile(r"/amp(?=/|$)|\.amp(?=$|\.html$)")


def _is_ip_or_local(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Return the form under which a story is stored: one row per story, whatever variant was linked.

    Lower-cases scheme and host, drops ``www.``/``m.``/``amp.`` host prefixes, uses https for public hosts,
    drops default ports, fragments, AMP path markers, tracking parameters (``utm_*``, ``fbclid``, ``gclid``,
    ``from`` …), ``;jsessionid=`` path parameters and a trailing slash or ``;``, and sorts the remaining query
    parameters; the path and query are percent-encoded one way (w3lib's ``canonicalize_url``), so a raw and an
    encoded form of the same Polish URL are one key. Loopback and IP hosts keep their scheme and port (the test
    mirror). Idempotent: the canonical form of a canonical URL is itself.
    """
    # w3lib first as well as last: it drops control characters and turns backslashes into slashes, which must
    # happen before slashes are collapsed and the trailing one dropped, or a second pass would change the result
    parts = urlsplit(canonicalize_url(url.strip()))
    scheme = parts.scheme.lower() or "https"
    host = (parts.hostname or "").lower()
    port = parts.port
    local = _is_ip_or_local(host)
    if not local:
        for prefix in ("www.", "amp.", "m."):
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix) :]
                break
        scheme = "https" if scheme in ("http", "https") else scheme
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        netloc = f"{host}:{port}"
    else:
        netloc = host
    path = _SESSION_PARAM.sub("", _AMP_SEGMENT.sub("", parts.path)) or "/"
    path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:  # a trailing slash, and an empty path parameter (";") that w3lib would drop before it
        path = path.rstrip("/;") or "/"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    )
    # w3lib settles the encoding: '…-zełenski' and '…-ze%C5%82enski' are one key, '%2C' and ',' too, and the
    # query is sorted
    return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")))


def host_of(url: str) -> str:
    """The lower-cased host of a URL, with ``:port`` when the URL names a non-default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def on_domains(url: str, domains: Sequence[str]) -> bool:
    """True when the URL is http(s) on one of the domains or their subdomains.

    A domain written with a port (``127.0.0.1:8080``) matches only that host and port.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    host = (parts.hostname or "").lower()
    with_port = f"{host}:{parts.port}" if parts.port else host
    for domain in domains:
        domain = domain.lower()
        if ":" in domain:
            if with_port == domain:
                return True
        elif host == domain or host.endswith("." + domain):
            return True
    return False


def pattern_target(url: str) -> str:
    """The part of a URL an outlet's ``article_pattern`` is matched against: path, plus ``?query``."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def absolute(base: str, href: str) -> str | None:
    """Resolve a link against its page; None for links that are not http(s) (mailto:, javascript:)."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    joined = urljoin(base, href)
    scheme = urlsplit(joined).scheme
    if scheme not in ("http", "https"):
        return None
    return joined.split("#", 1)[0]
