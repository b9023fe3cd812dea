"""Stories in the order of the articles' times, whatever the order they are stored in (issue #17). Pure: no SQL.

Every article is placed as if the articles had come one at a time in the order of their times (ties broken by
URL, see :data:`monitor.archive.clusters.Key`): against the stories made of the articles before it
(:meth:`~monitor.archive.clusters.StoryState.before`), by :func:`monitor.archive.clusters.choose`. The result
depends on the set of articles only. A crawl meets outlets' feeds in any order, so :meth:`Engine.insert` keeps
it true when articles come in out of order or leave (no longer flagged): the articles after the earliest of
them are decided again, in order, when their decision could have changed —

- their story gained or lost an article before them;
- a story holding one of their seeds (in any of its articles) gained or lost an article before them, and it
  now scores better with them than their story, or the story they follow, does (the best of stories scored one
  by one: a changed story that does not beat theirs changes nothing, however many articles share the seed);
- an earlier copy of the same wire dispatch was placed or moved, or the story they follow changed.

A decision that comes out the same changes nothing further. One that moves an article marks both stories as
changed from that article on. A story whose first article moves to another story is dissolved, and its other
articles are decided again. Articles stored in the order of their times (a live crawl, a rebuild) are decided
once each, with nothing to decide again.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.archive.clusters import (
    FOLLOW_SPAN,
    OUTCOME_REACH,
    REACHABLE,
    SPAN,
    WINDOW,
    Decision,
    Key,
    Member,
    StoryState,
    choose,
)
from monitor.archive.story_events import FAMILY, LONGEST
from monitor.archive.story_held import Postings
from monitor.archive.story_referent import documented, ownerless
from monitor.archive.story_relations import may_meet_announced

if TYPE_CHECKING:
    from monitor.archive.story_scores import CentroidIndex

# The longest a story is open after its last article (a story of announcements of a meeting).
OPEN = max(WINDOW, LONGEST)
REACH = max(OPEN, FOLLOW_SPAN)  # a story can be joined or followed until this long after its last article
_END = "\uffff"  # after every time and URL of a Key
More = Callable[[str], Iterable[tuple["Member", "Placement"]]]  # the stored stories begun by a time, not held


def utc_key(moment: datetime) -> str:
    """A time as the first part of a :data:`Key` (UTC, ISO 8601 to the second)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


INDEX_FROM = 48  # stories held from which an article later than all is compared through a CentroidIndex
STEP = timedelta(days=1)  # how far ahead (in the articles' time) Engine.insert reads stored stories at a time
# how often (in the articles' time) the index lets go of stories no longer reachable
SWEEP = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an article is: its story, how it joined (``new``, ``similar``, ``wire``), its score with the story
    when it joined, and, for the first article of a story, the earlier story the new one follows."""

    story: int
    how: str
    score: float | None = None
    follows: int | None = None


@dataclass
class Outcome:
    """What an :meth:`Engine.insert` changed: the articles placed anew or moved (None: taken out), and the
    stories whose articles or whose ``follows`` changed (those no longer in :attr:`Engine.stories` are gone)."""

    placed: dict[int, Placement | None] = field(default_factory=dict)
    stories: set[int] = field(default_factory=set)
    decided: int = 0  # decisions made, the new articles' included (the cost of the order)
    released: str | None = None  # unchanged stories that no article after this time can reach were let go


@dataclass
class _Changes:
    stories: dict[int, Key] = field(default_factory=dict)  # story -> earliest article where it changed
    # seed -> the changed stories holding it, each with its earliest change
    seeds: dict[str, dict[int, Key]] = field(default_factory=dict)
    wires: dict[int, Key] = field(default_factory=dict)  # wire dispatch -> earliest copy placed or moved
    active: bool = True  # False: no article after these changes is held (in order: nothing to decide again)
    until: str | None = None  # no article after this time (as in a Key) can be moved by these changes

    def mark(self, story: StoryState, key: Key) -> None:
        """The story changed at ``key``: so did, for the articles after it, every seed its articles hold.
        Articles later than its last one by more than it can be joined or followed are out of its reach."""
        if not self.active:
            return
        reach = max(story.open_until, story.follow_until) if story.size >= 2 else story.open_until
        until = utc_key(reach)
        if self.until is None or until > self.until:
            self.until = until
        _earliest(self.stories, story.id, key)
        for seed in story.seeds:
            _earliest(self.seeds.setdefault(seed, {}), story.id, key)

    def wire(self, group: int | None, key: Key) -> None:
        if group is not None and self.active:
            _earliest(self.wires, group, key)


def _earliest(marks: dict[Any, Key], name: Any, key: Key) -> None:
    known = marks.get(name)
    if known is None or key < known:
        marks[name] = key


class Engine:
    """The stories of the articles it holds, decided in the order of the articles' times.

    :meth:`load` puts in stories already decided (read from the archive); :meth:`insert` places new articles and
    takes articles out; :meth:`evict` forgets stories no later article can join or follow."""

    def __init__(self) -> None:
        self.stories: dict[int, StoryState] = {}
        self.members: dict[int, Member] = {}
        self.placed: dict[int, Placement] = {}
        self._postings = Postings()  # seed -> the stories one of whose articles has it
        self._wires: dict[int, dict[int, Member]] = {}  # wire dispatch -> its copies held
        self._latest: Key | None = None  # the latest key held
        # the held stories' centroids by token (from INDEX_FROM stories)
        self._index: CentroidIndex | None = None
        self._swept: datetime | None = None  # when (in the articles' time) the index last let stories go
        self._announcing: set[int] = set()  # the held stories with an announcement (see _near)
        self._documents: set[int] = set()  # the held stories about a document (see _near)

    # --- state ------------------------------------------------------------------------------------------

    def load(self, items: Iterable[tuple[Member, Placement]]) -> None:
        """Hold stories already decided: every article of each story, with its placement (any order)."""
        changed: dict[int, StoryState] = {}
        for item, placement in sorted(items, key=lambda pair: pair[0].key):
            if item.id in self.members:
                continue
            story = self.stories.get(placement.story)
            if story is None:
                story = self.stories[placement.story] = StoryState(item)
                story.id = placement.story
            else:
                story.add(item)
            changed[story.id] = story
            self._hold(item, placement)
            self._postings.post(story.id, item.seeds)
            self._announces(story)
        if self._index is not None:
            for story in changed.values():
                self._index.put(story)

    def _hold(self, item: Member, placement: Placement) -> None:
        self.members[item.id] = item
        self.placed[item.id] = placement
        if item.wire is not None:
            self._wires.setdefault(item.wire, {})[item.id] = item
        if self._latest is None or item.key > self._latest:
            self._latest = item.key

    def _drop(self, item: Member) -> None:
        self.members.pop(item.id, None)
        self.placed.pop(item.id, None)
        if item.wire is not None:
            copies = self._wires.get(item.wire, {})
            copies.pop(item.id, None)
            if not copies:
                self._wires.pop(item.wire, None)

    def follows(self, story: StoryState) -> int | None:
        """The earlier story a story follows (the decision of its first article)."""
        placement = self.placed.get(story.members[0].id)
        return placement.follows if placement is not None else None

    def evict(self, before: datetime) -> list[tuple[StoryState, int | None]]:
        """Forget the stories whose last article is before ``before`` (and their articles); returns them with
        the story each follows."""
        gone = [(story, self.follows(story)) for story in self.stories.values() if story.last < before]
        for story, _follows in gone:
            self._forget(story)
        return gone

    def _announces(self, story: StoryState) -> None:
        if story.announcements:
            self._announcing.add(story.id)
        else:
            self._announcing.discard(story.id)
        if story.objects:
            self._documents.add(story.id)
        else:
            self._documents.discard(story.id)

    def _forget(self, story: StoryState) -> None:
        self._let_go(story)
        for item in story.members:
            self._drop(item)

    def _let_go(self, story: StoryState) -> None:
        """Stop holding a story: its state, its postings, its place among the announcing and in the index."""
        del self.stories[story.id]
        self._announcing.discard(story.id)
        self._documents.discard(story.id)
        self._postings.unpost(story.id, story.seeds)
        if self._index is not None:
            self._index.drop(story.id)

    # --- decisions --------------------------------------------------------------------------------------

    def candidates(self, item: Member) -> list[StoryState]:
        """The stories an article is compared with, as they were before it: those sharing one of its seeds
        with one of their articles, that it could still join or follow."""
        seeds = {*item.seeds, *item.asks}
        found = self._postings.holders(seeds)
        return [
            earlier
            for story_id in sorted(found)
            if (earlier := self._candidate(self.stories[story_id], item, seeds)) is not None
        ]

    @staticmethod
    def _candidate(story: StoryState, item: Member, seeds: set[str]) -> StoryState | None:
        """A story in the postings of one of an article's ``seeds`` as it was before the article, when the
        article is compared with it: it still shares one of them, and it can still be joined or followed."""
        if item.features.at > story.last + REACH or story.founder_key >= item.key:
            return None
        earlier = story.before(item.key)
        if earlier is None or (earlier is not story and not seeds.intersection(earlier.seeds)):
            return None
        return earlier

    def _near(self, item: Member) -> tuple[list[StoryState], dict[int, float | None]] | None:
        """:meth:`candidates` for an article later than every article held (a rebuild, a crawl meeting articles in
        the order of their times), less the stories whose cosine with it is below ``REACHABLE`` (they change no
        decision), found through the :class:`~monitor.archive.story_scores.CentroidIndex`; None when the article
        is not the latest or too few stories are held for the index to pay."""
        if self._latest is not None and item.key <= self._latest:
            return None
        index = self._index
        if index is None:
            if len(self.stories) < INDEX_FROM:
                return None
            from monitor.archive.story_scores import CentroidIndex  # numpy, for large engines only

            index = self._index = CentroidIndex(self.stories.values())
        vector = item.features.vector
        at, seeds = item.features.at, item.seeds
        if self._swept is None or at - self._swept > SWEEP:
            self._sweep(index, at)
        states = []
        reach = OUTCOME_REACH if documented(item.features.event) else REACHABLE  # as choose reaches
        texts = index.near(tuple(vector), tuple(vector.values()), reach)
        # a story announcing a meeting is joined by its report at any cosine when they meet (meets_announced,
        # which may meet through a side of the war standing for a person, not only the people it asks for)
        if item.features.event.kind in FAMILY:
            found, held = item.features, self.stories
            texts.update(
                (i, None) for i in self._announcing if i not in texts and may_meet_announced(found, held[i])
            )
        # an article on a document it names no owner of is scored with every story about one (story_referent)
        if ownerless(item.features.event):
            texts.update((i, None) for i in self._documents if i not in texts)
        seeds = (*seeds, *item.asks)
        for story_id in sorted(texts):
            story = self.stories[story_id]
            if at > story.last + REACH or story.founder_key >= item.key:
                continue
            if not story.seeds.keys().isdisjoint(seeds):  # in the postings of one of its seeds
                states.append(story)
        return states, texts

    def _sweep(self, index: CentroidIndex, at: datetime) -> None:
        """Let the index forget the stories that no article from ``at`` on can join or follow unless they change
        (a change puts them back): in the order of times, nothing before ``at`` is decided through it."""
        for story_id in index.ids():
            story = self.stories[story_id]
            if story.open_until < at and (story.size < 2 or story.follow_until < at):
                index.drop(story_id)
        # nor is a story of announcements joined after it closes (it is followed only through the index)
        self._announcing = {i for i in self._announcing if self.stories[i].open_until >= at}
        self._documents = {i for i in self._documents if self.stories[i].open_until >= at}
        self._swept = at

    def decide(self, item: Member) -> Decision:
        """Where an article goes, given the articles before it."""
        if item.wire is not None:
            # a copy more than SPAN later (a dispatch used again) is an article of its own
            at = item.features.at
            earlier = [
                copy
                for copy in self._wires.get(item.wire, {}).values()
                if copy.key < item.key and copy.id in self.placed and at - copy.features.at <= SPAN
            ]
            if earlier:
                first = min(earlier, key=lambda copy: copy.key)
                return choose(item.features, (), wire_story=self.placed[first.id].story)
        near = self._near(item)
        if near is None:
            return choose(item.features, self.candidates(item))
        return choose(item.features, near[0], texts=near[1])

    # --- changes ----------------------------------------------------------------------------------------

    def insert(
        self,
        new: Sequence[Member],
        removed: Iterable[int] = (),
        more: More | None = None,
        stored: str | None = None,
    ) -> Outcome:
        """Place new articles and take articles out, keeping every article where the order of times puts it.

        Without ``more`` the engine decides with what it holds. With it, the engine holds what the articles it
        decides need, and no more: the caller gives it the stories reachable from the earliest of them (last
        seen up to ``REACH`` before it, begun by its time), and the engine asks ``more(until)`` for the stored
        stories begun by ``until`` (a time, as in a :data:`Key`) a ``STEP`` at a time as it goes through the
        later articles, and lets go behind itself of the stories no later article can join or follow
        (:attr:`Outcome.released`). ``stored`` is the time of the latest article stored, held or not. The
        articles after the changes are checked only until no change can reach them (:attr:`_Changes.until`), so
        what is read follows the changes, not the archive."""
        outcome = Outcome()
        changes = _Changes()
        gone = [self.members[i] for i in removed if i in self.members]
        fresh = sorted((item for item in new if item.id not in self.members), key=lambda item: item.key)
        starts = [item.key for item in (*gone, *fresh)]
        if not starts:
            return outcome
        start = min(starts)
        for item in sorted(gone, key=lambda item: item.key):
            self._leave(item, changes, outcome)
            self._drop(item)
            outcome.placed[item.id] = None
        if self._latest is not None and start <= self._latest:
            later = [
                item for item in self.members.values() if item.key > start and item.id not in outcome.placed
            ]
        else:
            later = []
        changes.active = bool(later) or (more is not None and stored is not None and stored >= start[0])
        fresh_ids = {item.id for item in fresh}
        wired = {item.wire for item in fresh if item.wire is not None}
        queue = [(item.key, item.id, item) for item in (*later, *fresh)]
        heapq.heapify(queue)
        end = max(starts)[0]
        loaded = _END if more is None else start[0]
        while True:
            need = _END if more is None else max(end, min(changes.until or end, stored or end))
            while queue and queue[0][0] <= (loaded, _END):
                key, _id, item = heapq.heappop(queue)
                if key[0] > need:  # no change made so far reaches it, nor any later article
                    return outcome
                if item.id in fresh_ids or self._affected(item, changes):
                    self._place(item, changes, outcome)
                need = _END if more is None else max(end, min(changes.until or end, stored or end))
            if more is None or loaded >= need:
                return outcome
            self._release(datetime.fromisoformat(loaded), outcome, wired)
            loaded = min(need, utc_key(datetime.fromisoformat(loaded) + STEP))
            for item in self._more(more, loaded, outcome):
                heapq.heappush(queue, (item.key, item.id, item))

    def _more(self, more: More, until: str, outcome: Outcome) -> list[Member]:
        """Hold the stored stories begun by ``until`` (but those this insertion changed: the engine knows them
        better than the archive); returns the articles newly held."""
        pairs = [
            pair
            for pair in more(until)
            if pair[1].story not in outcome.stories and pair[0].id not in self.members
        ]
        self.load(pairs)
        return [item for item, _placement in pairs]

    def _release(self, before: datetime, outcome: Outcome, wired: set[int]) -> None:
        """Let go of the stories that no article after ``before`` can join or follow, but those changed and those
        holding an earlier copy of a dispatch in ``wired`` (a copy joins its earlier copy's story at any time)."""
        keep = {
            self.placed[copy.id].story
            for group in wired
            for copy in self._wires.get(group, {}).values()
            if copy.id in self.placed
        }
        for story in [
            story
            for story in self.stories.values()
            if story.id not in outcome.stories
            and story.id not in keep
            and (story.last < before - REACH or (story.size < 2 and story.open_until < before))
        ]:
            self._forget(story)
        outcome.released = utc_key(before)

    def _affected(self, item: Member, changes: _Changes) -> bool:
        """Whether the changes before an article could change its decision. Its story, the story it follows
        or an earlier copy of its dispatch changed: yes. Otherwise only the changed stories sharing one of its
        seeds (its rivals) could, and :func:`~monitor.archive.clusters.choose` takes the best of stories scored
        one by one: the decision among its story, the one it follows and its rivals, as they are before it, is
        the decision among all (the stories that did not change scored below its story or its follow). So an
        article whose seeds hold no rival is not decided again, and one with rivals is decided among those
        few — at any density, not against every story sharing a common seed."""
        placement = self.placed.get(item.id)
        if placement is None:  # its story was dissolved
            return True
        key = item.key
        own = (placement.story, placement.follows)
        for story_id in own:
            if story_id is not None and changes.stories.get(story_id, key) < key:
                return True
        if item.wire is not None and changes.wires.get(item.wire, key) < key:
            return True
        if placement.how == "wire":  # it joins the story of the earlier copy whatever the others
            return False
        seeds = {*item.seeds, *item.asks}
        rivals = {
            story_id
            for seed in seeds
            for story_id, at in changes.seeds.get(seed, {}).items()
            if at < key and story_id not in own and story_id in self.stories
        }
        if not rivals:
            return False
        states = [
            earlier
            for story_id in sorted(rivals)
            if (earlier := self._candidate(self.stories[story_id], item, seeds)) is not None
        ]
        for story_id in own:
            if story_id is not None and story_id != item.id:
                story = self.stories.get(story_id)
                if story is None:  # not held: decide against everything
                    return True
                earlier = story.before(item.key)
                if earlier is None:  # stored by other rules: its first article is not before the article
                    return True
                states.append(earlier)
        decision = choose(item.features, states)
        target = item.id if decision.story is None else decision.story
        return Placement(target, decision.how, decision.score, decision.follows) != placement

    def _place(self, item: Member, changes: _Changes, outcome: Outcome) -> None:
        outcome.decided += 1
        old = self.placed.get(item.id)
        decision = self.decide(item)
        target = item.id if decision.story is None else decision.story
        placement = Placement(target, decision.how, decision.score, decision.follows)
        if old is not None and old.story == target:
            if placement != old:
                self.placed[item.id] = placement
                outcome.placed[item.id] = placement
                outcome.stories.add(target)
            return
        if old is not None:
            self._leave(item, changes, outcome)
        if target == item.id:
            story = self.stories[item.id] = StoryState(item)
        else:
            story = self.stories[target]
            story.add(item)
        if self._index is not None:  # only the new article's tokens changed when it came last
            appended = story.size > 1 and story.members[-1] is item
            self._index.put(story, item.features.vector if appended else None)
        self._hold(item, placement)
        self._postings.post(story.id, item.seeds)
        self._announces(story)
        changes.mark(story, item.key)
        changes.wire(item.wire, item.key)
        outcome.placed[item.id] = placement
        outcome.stories.add(story.id)

    def _leave(self, item: Member, changes: _Changes, outcome: Outcome) -> None:
        """Take an article out of its story; a story that loses its first article is dissolved."""
        placement = self.placed.pop(item.id, None)
        if placement is None:
            return
        story = self.stories[placement.story]
        changes.mark(story, item.key)
        changes.wire(item.wire, item.key)
        outcome.stories.add(story.id)
        if story.id == item.id:
            self._let_go(story)
            for other in story.members:
                if other.id != item.id:
                    self.placed.pop(other.id, None)
                    changes.wire(other.wire, item.key)
            return
        story.remove(item.id)
        self._postings.unpost(story.id, item.seeds, story.seeds)
        self._announces(story)
        if self._index is not None:
            self._index.put(story)
