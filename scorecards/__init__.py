"""The shipped scorecards, as YAML (package data)."""
