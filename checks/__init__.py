"""The built-in readiness checks, one per module, registered under the ``prr.checks`` entry point."""
