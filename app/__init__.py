"""PRR Portal: production readiness checks, tiered scorecards, and the portal that serves them.

Plugin authors import :mod:`prr.plugin` (the check API) and :mod:`prr.testing` (running a check
over a fixture repo in tests).
"""
