"""The identity of an article posted to the API: from its URL, else from its title and text, never a file name."""

from __future__ import annotations

import hashlib

from corpus.article import Article, article_id


def upload_id(article: Article) -> str:
    """An uploaded article's id: from its URL if it has one, else from its title and text (never its file name)."""
    if article.url:
        return article_id(article.url)
    digest = hashlib.sha256(f"{article.title}\x1f{article.text}".encode()).hexdigest()
    return article_id(f"upload:{digest}")
