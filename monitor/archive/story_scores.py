"""Which held stories an article's vector comes near (issue #17): an inverted index from each token to the
centroids that have it, so that one article is scored against every held story with a few array operations
instead of one cosine per story.

:meth:`CentroidIndex.near` gives the stories whose cosine with a vector reaches a floor, with that cosine. A
story below :data:`monitor.archive.clusters.REACHABLE` can neither be joined nor followed, whatever the dates,
venues and people add, so :func:`monitor.archive.clusters.choose` decides the same without it. The cosines are
those :func:`monitor.archive.clusters.cosine` gives, to the last bit, where Python's ``sum`` adds in order (3.11:
:data:`EXACT`): each story's products are added one by one in the order of the article's tokens, starting from
0.0, by ``numpy.bincount``; a token a centroid lacks adds nothing, as its exact 0.0 does there. Elsewhere (3.12 and
later sum with compensation) the index only narrows, with a margin, and ``choose`` computes the cosines.
tests/test_story_rebuild_speed.py checks both, and that the engine places the same with and without the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from monitor.archive.clusters import StoryState

MARGIN = 1e-9  # what summing in another order can change a cosine of at most 40 terms by, and far more
EXACT = sum((1e16, 1.0, -1e16)) == 0.0  # the built-in sum adds in order (no compensation, Python < 3.12)


class _Posting:
    """The indexed stories whose centroid has one token: row 0 of ``data`` their slots (as floats, exact), row 1
    the token's weight in each centroid; ``held`` is the view of the first ``n`` columns, what
    :meth:`CentroidIndex.near` reads (one array per token: one concatenation per article)."""

    __slots__ = ("data", "values", "n", "where", "held")

    def __init__(self) -> None:
        self.data = np.zeros((2, 8), dtype=np.float64)
        self.values = self.data[1]
        self.n = 0
        self.where: dict[int, int] = {}  # slot -> its column
        self.held = self.data[:, :0]

    def add(self, slot: int) -> int:
        """The column of a new slot (its value to be set in ``values``)."""
        at = self.n
        if at == self.data.shape[1]:
            self.data = np.concatenate((self.data, np.zeros((2, at), dtype=np.float64)), axis=1)
            self.values = self.data[1]
        self.data[0, at] = slot
        self.where[slot] = at
        self.n = at + 1
        self.held = self.data[:, : at + 1]
        return at

    def discard(self, slot: int) -> None:
        at = self.where.pop(slot, None)
        if at is None:
            return
        last = self.n - 1
        if at != last:
            self.data[:, at] = self.data[:, last]
            self.where[int(self.data[0, at])] = at
        self.n = last
        self.held = self.data[:, :last]


class CentroidIndex:
    """The centroids of stories, by token. Kept in step by :meth:`put` (after a story gained an article: the tokens
    that changed; after any other change, or for a story not indexed: all of them) and :meth:`drop` (a story gone,
    or one no later article can join or follow)."""

    def __init__(self, stories: Iterable[StoryState] = ()) -> None:
        self._postings: dict[str, _Posting] = {}
        self._slot: dict[int, int] = {}  # story id -> slot
        self._ids: list[int] = []  # slot -> story id (-1: free)
        self._tokens: list[set[str]] = []  # slot -> the tokens posted for it
        self._free: list[int] = []
        self._norms = np.full(64, np.inf)  # a free slot, or a story whose centroid is all zeros: never near
        for story in stories:
            self.put(story)

    def __len__(self) -> int:
        return len(self._slot)

    def ids(self) -> list[int]:
        """The ids of the stories indexed."""
        return list(self._slot)

    def put(self, story: StoryState, tokens: Iterable[str] | None = None) -> None:
        """Take in a story's centroid as it is now: only ``tokens`` changed (None: any may have)."""
        slot = self._slot.get(story.id)
        if slot is None:
            slot, tokens = self._allocate(story.id), None
        posted = self._tokens[slot]
        centroid = story.centroid
        if tokens is None:
            for token in posted - centroid.keys():
                self._unpost(token, slot)
            tokens = centroid
        postings = self._postings
        for token in tokens:
            posting = postings.get(token)
            if posting is None:
                posting = postings[token] = _Posting()
            at = posting.where.get(slot)
            if at is None:
                at = posting.add(slot)
                posted.add(token)
            posting.values[at] = centroid[token]
        self._norms[slot] = story.norm or np.inf

    def drop(self, story_id: int) -> None:
        """Forget a story (gone, dissolved or evicted)."""
        slot = self._slot.pop(story_id, None)
        if slot is None:
            return
        for token in self._tokens[slot]:
            self._unpost(token, slot)
        self._tokens[slot] = set()
        self._ids[slot] = -1
        self._norms[slot] = np.inf
        self._free.append(slot)

    def near(self, tokens: Sequence[str], weights: Sequence[float], floor: float) -> dict[int, float | None]:
        """The held stories whose centroid's cosine with a vector (``tokens`` and their ``weights``, in its
        order) reaches ``floor`` (at least ``floor`` less :data:`MARGIN`; a story sharing no token is never near),
        by id, in the order of their slots, each with that cosine (None where it is not :data:`EXACT`)."""
        get = self._postings.get
        shared = [
            (posting, weight)
            for token, weight in zip(tokens, weights, strict=True)
            if (posting := get(token))
        ]
        if not shared:
            return {}
        block = np.concatenate([posting.held for posting, _weight in shared], axis=1)
        each = np.repeat([weight for _posting, weight in shared], [posting.n for posting, _weight in shared])
        dots = np.bincount(block[0].astype(np.intp), weights=block[1] * each, minlength=len(self._norms))
        found = np.flatnonzero(dots >= max(floor - MARGIN, MARGIN) * self._norms).tolist()
        ids = self._ids
        if not EXACT:
            return dict.fromkeys((ids[slot] for slot in found), None)
        return {
            ids[slot]: dot / norm
            for slot, dot, norm in zip(found, dots[found].tolist(), self._norms[found].tolist(), strict=True)
        }

    def _allocate(self, story_id: int) -> int:
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self._ids)
            self._ids.append(-1)
            self._tokens.append(set())
            if slot == len(self._norms):
                self._norms = np.concatenate((self._norms, np.full(slot, np.inf)))
        self._ids[slot] = story_id
        self._slot[story_id] = slot
        return slot

    def _unpost(self, token: str, slot: int) -> None:
        posting = self._postings.get(token)
        if posting is not None:
            posting.discard(slot)
            if not posting.n:
                del self._postings[token]
