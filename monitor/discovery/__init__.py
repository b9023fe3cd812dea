"""Discovery: sources.toml, feeds, sitemaps and sections, canonical URLs, what the crawl remembers. Pure."""
