"""Loads the monitor's Datasette plugin for ``datasette --plugins-dir monitor/data/datasette/plugins``."""

from monitor.archive.datasette import prepare_connection  # noqa: F401
