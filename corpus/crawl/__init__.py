"""The crawler: fetch (polite, bounded), discover (feeds, sitemaps, listings), extract, deduplicate, bundle."""
