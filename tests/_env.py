"""The environment of the commands the tests start.

``ENV`` runs crawls with tests/crawl_settings.py: the monitor's settings, but extraction in the crawl's own process.
A pool of extraction workers (``MONITOR_POOL_PROCESSES``, the machine's cores by default) costs a small crawl
about 1.7 s more CPU and 3 s more before its first page, as each worker starts and imports the extraction; over
the suite's crawls that was a large part of its time. The pool is tested where it is the subject: tests/test_pool.py
asks for it with ``-s MONITOR_POOL_PROCESSES=2``, and the demo crawl and the distributed crawl's tests run with
the monitor's own settings (``MONITOR_ENV``), as a user runs them.
"""

from __future__ import annotations

import os
from pathlib import Path

TESTS = Path(__file__).resolve().parent
MONITOR_ENV = {**os.environ, "SCRAPY_SETTINGS_MODULE": "monitor.settings"}
ENV = {
    **os.environ,
    "SCRAPY_SETTINGS_MODULE": "crawl_settings",
    "PYTHONPATH": os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p),
}
