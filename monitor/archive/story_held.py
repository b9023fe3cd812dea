"""What the stories' engine holds, held compactly (issues #15, #17): a crawl's writer placing last January's
articles at 5M's density holds some 2,000 stories of 4,000 articles, and more for a while as it goes through
the weeks after them, so the way each is held is the crawl's peak memory.

- :class:`Postings`: which held stories hold each seed. Most seeds are held by one story (a word of one
  event), so a seed keeps the id of its one story alone, a tuple of a few, and a set only for many (a common
  seed, ``@putin``): a set per seed was a fifth of what the writer held.
- :class:`Weights`: an article's vector read back from the archive (``story_vectors``), as its tokens, each one
  string for all articles (``sys.intern``), and its weights as doubles: the same floats, in the same order, for
  half the memory of a dict of float objects.
"""

from __future__ import annotations

from array import array
from collections.abc import ItemsView, Iterable, Iterator, Mapping, ValuesView
from sys import intern

FEW = 8  # a seed's stories held in a tuple up to this many, in a set beyond


class Postings:
    """seed -> the ids of the stories one of whose articles has it."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: dict[str, int | tuple[int, ...] | set[int]] = {}

    def post(self, story_id: int, seeds: Iterable[str]) -> None:
        held = self._held
        for seed in seeds:
            holders = held.get(seed)
            if holders is None:
                held[seed] = story_id
            elif isinstance(holders, int):
                if holders != story_id:
                    held[seed] = (holders, story_id)
            elif isinstance(holders, tuple):
                if story_id not in holders:
                    held[seed] = (*holders, story_id) if len(holders) < FEW else {*holders, story_id}
            else:
                holders.add(story_id)

    def unpost(self, story_id: int, seeds: Iterable[str], kept: Mapping[str, int] | None = None) -> None:
        """Take a story out of the postings of ``seeds`` (but for those its articles still hold: ``kept``)."""
        held = self._held
        for seed in seeds:
            if kept and kept.get(seed):
                continue
            holders = held.get(seed)
            if holders is None:
                continue
            if isinstance(holders, int):
                if holders == story_id:
                    del held[seed]
            elif story_id in holders:
                if isinstance(holders, set) and len(holders) > FEW + 1:
                    holders.discard(story_id)
                else:
                    rest = tuple(other for other in holders if other != story_id)
                    held[seed] = rest[0] if len(rest) == 1 else rest

    def holders(self, seeds: Iterable[str]) -> set[int]:
        """The stories holding one of ``seeds``."""
        found: set[int] = set()
        held = self._held
        for seed in seeds:
            holders = held.get(seed)
            if isinstance(holders, int):
                found.add(holders)
            elif holders is not None:
                found.update(holders)
        return found

    def __len__(self) -> int:
        return len(self._held)


class Weights(Mapping[str, float]):
    """A vector (token -> weight, in its order) held as a tuple of interned tokens and an array of doubles."""

    __slots__ = ("_tokens", "_weights")

    def __init__(self, vector: Mapping[str, float]) -> None:
        self._tokens = tuple(intern(token) for token in vector)
        self._weights = array("d", vector.values())

    def __getitem__(self, token: str) -> float:
        try:
            return self._weights[self._tokens.index(token)]
        except ValueError:
            raise KeyError(token) from None

    def __contains__(self, token: object) -> bool:
        return token in self._tokens

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def items(self) -> ItemsView[str, float]:
        return _Items(self)

    def values(self) -> ValuesView[float]:
        return _Values(self)


class _Items(ItemsView[str, float]):
    _mapping: Weights

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return zip(self._mapping._tokens, self._mapping._weights, strict=True)


class _Values(ValuesView[float]):
    _mapping: Weights

    def __iter__(self) -> Iterator[float]:
        return iter(self._mapping._weights)
