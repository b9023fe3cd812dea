"""Scrapy extensions: the run lock."""
