"""What the story tests share: a story made of articles' features, in the order given."""

from __future__ import annotations

from monitor.archive.clusters import Features, StoryState, member


def story_of_features(*items: Features) -> StoryState:
    """A story of the given features (article ids 1, 2, … in that order, each keyed by its time)."""
    story = None
    for n, found in enumerate(items, 1):
        item = member(n, (found.at.isoformat(), str(n)), found)
        if story is None:
            story = StoryState(item)
        else:
            story.add(item)
    assert story is not None
    return story
