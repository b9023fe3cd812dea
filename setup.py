"""Build script kept for one reason: scrapyd-deploy builds its egg with ``python setup.py bdist_egg``.

Everything else (metadata, dependencies, packages, data) is in pyproject.toml.
"""

from setuptools import setup

setup()
