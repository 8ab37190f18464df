"""Parsers for the formats service repositories keep (PRODUCT.md §4), shared by the checks."""
