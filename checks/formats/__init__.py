"""Parsers for the formats service repositories keep, shared by the checks."""
