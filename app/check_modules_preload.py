"""Imported once by the check workers' fork server: every worker then starts with the installed
check modules (built-in and plugins) already imported, and finds a check sent by name without
importing its module afresh for each service."""

from prr.plugin import load_registry

load_registry()
