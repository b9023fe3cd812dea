"""Scrapy commands of the project (COMMANDS_MODULE): ``scrapy inspect``."""
