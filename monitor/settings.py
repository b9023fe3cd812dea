"""Scrapy settings of the monitor, and its own settings in the MONITOR_* namespace.

Every MONITOR_* setting can be overridden per run with ``-s NAME=VALUE`` (``scrapy crawl``) or by the ``monitor``
command's options. Components read them through ``crawler.settings`` only.
"""

import os

from monitor import __version__

BOT_NAME = "monitor"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "monitor.commands"  # scrapy inspect
SPIDER_CONTRACTS = {"monitor.contracts.FixtureContract": 10}  # scrapy check news, offline

# --- the monitor's own settings ---------------------------------------------------------------
MONITOR_DB = "data/monitor.db"  # SQLite archive
MONITOR_SOURCES = ""  # path of a sources.toml; empty = the packaged monitor/data/sources.toml
MONITOR_RULES = ""  # path of a rules TOML; empty = the packaged monitor/data/rules/peace_talks.toml
MONITOR_MIN_WORDS = 40  # fewer words of body text and a page is not an article
MONITOR_BUSY_TIMEOUT = 10.0  # seconds a write waits for another writer before the run stops
# True: read the whole archive for damage (PRAGMA quick_check) before the run's first write, even when it is as
# the last writer left it at a clean close (docs/operations.md, "The damage check before a write")
MONITOR_FULL_CHECK = False
MONITOR_BATCH_SIZE = 25  # articles written per transaction
MONITOR_MAX_ERRORS_KEPT = 20  # error lines kept per source and run in run_sources.errors
MONITOR_SILENT_RUNS = 3  # an outlet that discovers nothing in this many runs in a row is reported as silent
MONITOR_INCREMENTAL = (
    True  # skip stored articles unless discovery says they changed; conditional feed requests
)
MONITOR_MAX_PAGE_BYTES = (
    8 * 1024 * 1024
)  # an article page larger than this, sent or decompressed, is a failure
MONITOR_MAX_LINKS = 2000  # links followed from one feed or sitemap (the newest); 0 = all
MONITOR_MAX_SITEMAPS = (
    50  # feeds and sitemaps read per outlet and run (sitemap indexes included); 0 = no limit
)
MONITOR_PROGRESS_INTERVAL = (
    15.0  # seconds between writes of a running run's counts (also written with each batch)
)
# what the crawl asks about the URLs it discovers: a class with from_crawler, recall, feed, close (see the default)
MONITOR_RECALL = "monitor.archive.memory.Recall"
# extraction and rules in this many worker processes (default: the cores); 0 or 1 = in the crawl's process
MONITOR_POOL_PROCESSES = os.cpu_count() or 1
MONITOR_POOL_TIMEOUT = (
    60.0  # seconds a worker may spend on one page; then the page fails, the worker restarts
)
MONITOR_WRITER_THREAD = True  # batches are written by one writer thread, off the reactor; False = on it
MONITOR_LAG_INTERVAL = 0.05  # seconds between the reactor-lag probes (monitor/reactor_*_lag_ms); 0 = off
MONITOR_LOCK = ""  # the run lock file; empty = the archive's name with .lock (data/monitor.lock)
MONITOR_LOCK_ENABLED = True  # every crawl takes the lock, however it is started (monitor crawl, scrapy crawl)
MONITOR_LOCK_WAIT = False  # wait for another run to finish instead of closing at once (monitor crawl --wait)
MONITOR_LOCK_TIMEOUT = 0.0  # seconds to wait with MONITOR_LOCK_WAIT; 0 = as long as it takes
MONITOR_CONTACT_URL = "https://github.com/pl-peace-monitor/pl-peace-monitor"
MONITOR_BOT_NAME = f"pl-peace-monitor/{__version__}"
# USER_AGENT is built from MONITOR_BOT_NAME and MONITOR_CONTACT_URL unless you set it yourself.


def user_agent(bot: str | None = None, contact: str | None = None) -> str:
    """The monitor's User-Agent: its name and a contact URL (the one place it is built; not a setting)."""
    return f"{bot or MONITOR_BOT_NAME} (+{contact or MONITOR_CONTACT_URL})"


# --- politeness -----------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "monitor.middlewares.robots.PoliteRobotsTxtMiddleware": 100,
    "monitor.middlewares.politeness.BackoffMiddleware": 560,  # before RetryMiddleware (550) sees 429/503
    "monitor.middlewares.downloads.RedirectLoops": 50,  # a redirect back into its own chain fails, not vanishes
    # bounded decompression (bombs) in place of Scrapy's HttpCompressionMiddleware
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "monitor.middlewares.downloads.BoundedDecompression": 590,
}
MONITOR_MAX_BACKOFF = 300.0  # seconds: the longest delay Retry-After or 429/503 back-off may impose on a host
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many tasks for the output of every response, however little it yields (scrapy/scrapy
# issue 5182); an article page yields one item. 16 instead of 100: 1,000 generated pages with 2 workers,
# 41-44 -> 52 pages/s on 2 cores (docs/performance.md).
CONCURRENT_ITEMS = 16
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
RETRY_TIMES = 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port for an unattended crawl

ITEM_PIPELINES = {"monitor.pipelines.StoragePipeline": 300}
SPIDER_MIDDLEWARES = {
    "monitor.middlewares.callbacks.CallbackErrors": 950
}  # a callback's exception: a counted failure
EXTENSIONS = {
    "monitor.extensions.runlock.RunLock": 0,  # the run lock, taken before the archive is opened
    "monitor.extensions.runs.RunRecorder": 10,  # the run's record; the storage pipeline writes through it
    "monitor.extensions.lag.ReactorLag": 20,  # how late the reactor runs its timers, into the stats
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
