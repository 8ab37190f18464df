"""The monthly leadership scorecard: figures from the served verdicts, rendered as PDF, JSON and HTML."""
