"""Scale-out on scrapy-redis (issue #16): any number of workers share one request queue in Redis, and one writer
owns the SQLite archive.

- :mod:`~monitor.distributed.redis_url`: the Redis names every process shares, opening a connection, one-line
  errors;
- :mod:`~monitor.distributed.messages`: what travels on the item stream (JSON), read back strictly;
- :mod:`~monitor.distributed.lease`: requests popped with a lease, released once handled, re-queued when expired;
- :mod:`~monitor.distributed.scheduler`: scrapy-redis's scheduler with the lease and a per-run article filter;
- :mod:`~monitor.distributed.runs`: which run a request, an item or a counter belongs to, and the per-run counters;
- :mod:`~monitor.distributed.worker`: the worker's spider, pipeline, extensions and settings, and the seed's;
- :mod:`~monitor.distributed.memory`: what the writer publishes of the archive and :class:`RedisRecall`, the
  crawl's memory read from it (``MONITOR_RECALL``);
- :mod:`~monitor.distributed.writer`: the one process that classifies, stores and records runs.

Without ``--redis`` nothing here is loaded: ``scrapy crawl news`` and ``monitor crawl`` work as before.
"""
