"""simplemma's Polish lemmatiser for story clustering (:func:`monitor.archive.story_features.lemma`), over its
dictionary kept as a MARISA trie in the user's cache folder. Imported only when a word is first lemmatised."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import simplemma
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries import TrieDictionaryFactory
from simplemma.strategies.dictionaries.trie_dictionary_factory import (
    BytesTrie,
    TrieWrapDict,
)  # marisa-trie's, if installed


class AtomicTrieFactory(TrieDictionaryFactory):
    """simplemma's trie dictionaries, cached on disk, written to a temporary file first and renamed into place:
    two processes building the cache at once (a rebuild's workers, parallel tests) never read a half-written
    file. A cached trie is mapped from its file, not read into memory (21 MB for Polish): the pages lookups touch
    are shared by the processes that lemmatise (a crawl's extraction workers each derive story features)."""

    def _get_dictionary_uncached(self, lang: str) -> Mapping[str, str]:
        path = Path(self._cache_dir) / f"{lang}.dic"
        if path.exists():
            try:
                return TrieWrapDict(BytesTrie().mmap(str(path)))
            except Exception:  # noqa: BLE001 - simplemma's own loading reports and rebuilds a bad file
                pass
        return super()._get_dictionary_uncached(lang)

    def _write_trie_to_disk(self, lang: str, trie: Any) -> None:
        folder = Path(self._cache_dir)
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{lang}-", suffix=".dic")
        os.close(handle)
        try:
            trie.save(temporary)
            os.replace(temporary, folder / f"{lang}.dic")
        finally:
            Path(temporary).unlink(missing_ok=True)


@functools.cache
def lemmatizer() -> simplemma.Lemmatizer:
    """simplemma's lemmatiser over its Polish dictionary kept as a MARISA trie in the user's cache folder
    (``marisa-trie``): a process opens it in about 10 ms, where decoding the packaged dictionary into a dict takes
    5–9 s of CPU in every crawl that clusters an article. Built once per machine and simplemma version (about
    9 s); the lemmas are the same (checked on 117,000 word forms). Without ``marisa-trie``, simplemma's default."""
    try:
        factory = AtomicTrieFactory()
    except ImportError:
        return simplemma.Lemmatizer()
    return simplemma.Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory))
