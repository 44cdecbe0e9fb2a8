"""The review workspace: a web app to search, map, review and correct the ledger."""

from rightsledger.review.app import ReviewSettings, create_app

__all__ = ["ReviewSettings", "create_app"]
