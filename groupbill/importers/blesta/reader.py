"""The Blesta importer reads through the shared reader (groupbill.importers.reader)."""

from groupbill.importers.reader import Reader, ReaderError, parse_dsn

__all__ = ["Reader", "ReaderError", "parse_dsn"]
