"""Renderers: text the toolkit generates without cdktf (the Service Catalog product template,
the GitHub Actions workflows, the seed code under ``seed/``).

May import: ``modules.core`` (never cdktf-bound constructs, ``aws`` or ``github``).
"""
