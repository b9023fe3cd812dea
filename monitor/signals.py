"""The monitor's own Scrapy signals, sent by the spider with ``crawler.signals.send_catch_log(signal, **args)``
and received by the run recorder (:class:`monitor.extensions.runs.RunRecorder`).

Feed validators travel as signals, not as items or stats: they are not stored as they arrive (only a run that
finished saves them, and only for feeds none of whose articles failed), so the component that knows how the run
ended receives them directly, and the spider keeps no state for anyone to read at the end.
"""

from __future__ import annotations

# A feed or sitemap answered with an ETag or Last-Modified.
# Arguments: ``state`` (:class:`monitor.discovery.memory.FeedState`: url, etag, last_modified).
feed_validated = object()

# An article discovered from this feed or sitemap could not be fetched: the next run must read it in full,
# so this run does not save its validators. Arguments: ``url`` (the feed's URL as requested).
feed_incomplete = object()
