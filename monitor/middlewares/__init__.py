"""Scrapy middlewares: robots.txt per RFC 9309, back-off, download limits, callback errors."""
