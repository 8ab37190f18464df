"""Real git repositories with dated history, for tests (the demo fleet uses the same builder)."""

from prr.demo import GitRepoBuilder

__all__ = ["GitRepoBuilder"]
