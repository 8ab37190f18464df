"""Repository text cannot act on a terminal or break a JUnit document: `prr gate` output with a
catalog full of escape sequences and XML-illegal characters."""

from __future__ import annotations

import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from prr.escaping import for_slack, for_terminal, for_xml

# YAML double-quoted escapes: \e is ESC, \a is BEL, \x01 a control character XML cannot hold.
HOSTILE_CATALOG = r"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: mimic
  labels:
    tier: "\e]0;owned\a\e[2J\e[1;32mREADY\x01"
spec:
  type: service
  owner: "team\e[2J\e[H\e[32m READY \e[0m\u202e"
  lifecycle: production
"""


@pytest.mark.parametrize("fmt", ["text", "junit"])
def test_gate_output_carries_no_control_characters(make_repo, fmt: str) -> None:
    repo = make_repo({"catalog-info.yaml": HOSTILE_CATALOG})
    out = subprocess.run(
        [sys.executable, "-m", "prr.cli", "gate", str(repo.path), "--format", fmt],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    for stream in (out.stdout, out.stderr):
        assert not any(ch in stream for ch in "\x1b\x07\x01\u202e"), stream
    assert r"team\x1b[2J\x1b[H\x1b[32m READY \x1b[0m\u202e" in out.stdout
    if fmt == "junit":
        suite = ET.fromstring(out.stdout).find("testsuite")
        assert suite is not None
        tier = suite.find("testcase[@name='ownership.tier']/failure")
        assert tier is not None and r"\x1b]0;owned\x07" in tier.get("message", "")


def test_escapes_for_each_destination() -> None:
    assert for_terminal("ok\x1b[2Jline\nnext") == r"ok\x1b[2Jline\x0anext"
    assert for_terminal("a\nb", keep_newlines=True) == "a\nb"
    assert for_xml("a\x01b\ud800c") == r"a\x01b\ud800c"
    assert for_slack("<https://evil.example|Click here> <!channel> & co") == (
        "&lt;https://evil.example|Click here&gt; &lt;!channel&gt; &amp; co"
    )
