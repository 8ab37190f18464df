"""Imported once by the check workers' fork server, so every worker starts with the installed
check modules already loaded instead of importing them afresh for each service."""

from prr.plugin import load_registry

REGISTRY = load_registry()
