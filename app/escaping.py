"""Text from a scanned repository, made harmless for where it is shown.

Repository text (file names, summaries quoting YAML values, owners) is written by someone we do
not know. In a terminal it could carry escape sequences that repaint the screen or set the window
title; in XML it could hold characters that make the document invalid; in chat markup it could
open links or ping a channel. HTML is escaped by Jinja's autoescaping and JSON by the encoder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# C0 and C1 control characters (ESC, BEL, CR, backspace...) and the Unicode bidirectional
# overrides that reorder what a reader sees. Newlines are kept only where the caller allows.
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"[\n\x0b\x0c\x85\u2028\u2029]")
# What XML 1.0 cannot hold at all (even escaped), lone surrogates, and the bidirectional overrides
# (a CI test view shows the text to a person).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def as_unicode(text: str) -> str:
    """Lone surrogates shown as U+FFFD, so any UTF-8 store or strict JSON reader takes the text.

    A file name that is not UTF-8 is listed with its bad bytes as surrogates, so that git can be
    asked about it again; reports carry it as ``\ufffd`` instead.
    """
    return _SURROGATE.sub("\ufffd", text)


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}" if ord(match.group()) > 0xFF else f"\\x{ord(match.group()):02x}"


def for_terminal(text: str, keep_newlines: bool = False) -> str:
    """Control characters shown as ``\\x1b`` instead of acting on the terminal."""
    text = _TERMINAL_UNSAFE.sub(_visible, text)
    return text if keep_newlines else _LINE_BREAK.sub(_visible, text)


def for_xml(text: str) -> str:
    """Characters XML 1.0 cannot carry (and bidi overrides) shown as ``\\x01``; ElementTree escapes the rest."""
    return _XML_ILLEGAL.sub(_visible, text)


def for_slack(text: str) -> str:
    """Slack mrkdwn: ``<``, ``>`` and ``&`` escaped, so no link, mention or ``<!channel>`` forms."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def each_string(value: Any, escape: Callable[[str], str]) -> Any:
    """``value`` (a report, or any JSON-like structure) with ``escape`` applied to every string."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {key: each_string(item, escape) for key, item in value.items()}
    if isinstance(value, list):
        return [each_string(item, escape) for item in value]
    return value
