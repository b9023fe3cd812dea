"""The settings of the crawls the test suite starts (their ``SCRAPY_SETTINGS_MODULE``, see tests/_env.py): the
monitor's own, with extraction and the rules in the crawl's own process instead of a pool of workers."""

from monitor.settings import *  # noqa: F403

MONITOR_POOL_PROCESSES = 1
