"""The monitor's own Scrapy signals, sent by the spider with ``crawler.signals.send_catch_log(signal, **args)``
and received by the run recorder (:class:`monitor.extensions.runs.RunRecorder`).

A run begins when the spider's crawl begins, not when the spider opens: Scrapy opens the spider for
``scrapy parse``, ``check`` and ``shell`` too, and those must not write a run (every outlet at zero) into the
archive. Feed validators travel as signals, not as items or stats: they are not stored as they arrive (only a run
that finished saves them, and only for feeds none of whose articles failed), so the component that knows how the
run ended receives them directly, and the spider keeps no state for anyone to read at the end.
"""

from __future__ import annotations

# The spider begins its crawl (its own ``start()`` runs; ``scrapy parse``, ``check`` and ``shell`` do not send it):
# the run recorder opens the archive and records the run's start. Arguments: ``spider``.
crawl_started = object()

# A feed or sitemap answered with an ETag or Last-Modified.
# Arguments: ``state`` (:class:`monitor.discovery.memory.FeedState`: url, etag, last_modified).
feed_validated = object()

# An article discovered from this feed or sitemap could not be fetched: the next run must read it in full,
# so this run does not save its validators. Arguments: ``url`` (the feed's URL as requested).
feed_incomplete = object()
