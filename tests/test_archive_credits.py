"""Credits taken off the end of the body (issue #12) are stored with the article, as a JSON list."""

import json

from monitor.archive import Storage
from monitor.extract import Article
from monitor.rules import Verdict


def test_credits_are_stored_and_updated(tmp_path):
    def article(credits):
        return Article(
            url="https://rp.pl/swiat/art1-x",
            canonical_url="https://rp.pl/swiat/art1-x",
            title="Rozmowy w Genewie",
            authors=[],
            published=None,
            published_source=None,
            modified=None,
            date_candidates=[],
            lead=None,
            text="Treść " * 50,
            language="pl",
            paywalled=False,
            words=50,
            credits=credits,
        )

    storage = Storage(tmp_path / "a.db")
    storage.store_batch([("rp", article(["aja/PAP"]), Verdict("none", 0.0, "r", []))])
    assert json.loads(storage.db.execute("SELECT credits FROM articles").fetchone()[0]) == ["aja/PAP"]
    storage.store_batch([("rp", article(["Źródło: PAP", "oprac. aja"]), Verdict("none", 0.0, "r", []))])
    stored = storage.db.execute("SELECT credits FROM articles").fetchone()[0]
    assert json.loads(stored) == ["Źródło: PAP", "oprac. aja"]
    storage.close()
