"""The ``monitor`` command: one module per command group, thin over the packages below (docs/architecture.md)."""

from monitor.cli.main import main

__all__ = ["main"]
