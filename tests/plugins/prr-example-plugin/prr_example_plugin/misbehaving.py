"""Test-only checks that crash, hang and eat memory: the engine must contain each of them."""

import time

from prr.plugin import CheckContext, Result, check

COMMON = dict(category="testing", description="Misbehaves on purpose.", remediation="None: test only.")


@check(id="testonly.crash", title="Crashes", **COMMON)
def crash(ctx: CheckContext) -> Result:
    raise RuntimeError("boom: this check always crashes")


@check(id="testonly.hang", title="Hangs", **COMMON)
def hang(ctx: CheckContext) -> Result:
    while True:  # ignores signals a thread could send; only killing the process stops it
        time.sleep(0.05)


@check(id="testonly.memory-hog", title="Eats memory", **COMMON)
def memory_hog(ctx: CheckContext) -> Result:
    hog = []
    while True:
        hog.append(bytearray(64 * 1024 * 1024))
