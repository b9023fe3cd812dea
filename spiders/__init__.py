"""Scrapy spiders of the monitor (named in SPIDER_MODULES)."""
