"""sqlite-utils, imported without numpy.

sqlite-utils imports numpy whenever it is installed, only to know the column types of numpy values when it
creates a table from them; the archive's tables are created from Python types, and its rows hold Python values.
numpy is installed for the story scores (``monitor.archive.story_scores``), and loading it costs about 0.12 s of
CPU: 40% of a short command such as ``monitor report`` (0.29 → 0.16 s). So while sqlite-utils loads, ``import
numpy`` fails as if numpy were not installed; numpy is imported as usual when the story scores need it.
"""

from __future__ import annotations

import sys

if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
    import sqlite_utils
else:
    sys.modules["numpy"] = None  # type: ignore[assignment]  # an import of it raises ImportError meanwhile
    try:
        import sqlite_utils
    finally:
        del sys.modules["numpy"]

__all__ = ["sqlite_utils"]
