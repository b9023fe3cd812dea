"""Extraction and classification of fetched pages, in the crawl's process or in a pool of worker processes.

:mod:`~monitor.pool.work` is what happens to one page (extract, then classify: pure, no Scrapy, no SQLite) and the
loop a worker process runs; :mod:`~monitor.pool.workers` starts and feeds the workers, one page each at a time,
and hands every outcome back to the caller's thread (neither imports Scrapy or Twisted);
:mod:`~monitor.pool.reactor` puts the pool on a crawl's reactor, where the spider awaits each page's outcome.
"""
