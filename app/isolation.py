"""Run checks in a worker process that a runaway check cannot take down with it.

A worker process runs a service's checks one after another (so they share parsed files). The
parent waits on each result with a deadline: a check that hangs is killed with its process and
becomes an ``error``; a fresh worker picks up the checks still to run. The worker's address space
is capped, so a memory blow-up ends as a MemoryError (an ``error`` result) or, at worst, a dead
worker (also an ``error``), never as a dead scan.

Workers outlive a scan: a scan takes an idle worker (or starts one), and gives it back when all
its checks answered, so the ~30 ms of starting a process is paid once per scanning thread, not
once per service. A worker that was killed, died, or grew past :data:`RECYCLE_MB` is not given
back. A worker keeps nothing of a scan but the imported modules: it closes the scan's git reader
and drops its parses before it answers the last check.

Each job carries its check, pickled (see :meth:`prr.plugin.Check.__reduce__`): a worker runs the
checks of the registry the scan was given, not whatever happens to be installed.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import resource
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from prr.plugin import Check, CheckContext, Result, Status, errored

# forkserver: workers fork from a clean single-threaded server, safe under a threaded portal. The
# server imports the installed check modules once, so workers find checks sent by name already loaded.
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["prr.isolation", "prr.check_modules_preload"])


STARTUP_SECONDS = 120  # a worker that cannot start a check in this long is taken as dead


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float = 60.0
    memory_mb: int = 2048


@dataclass
class Job:
    check: Check
    params: dict[str, Any]


@dataclass
class _Parcel:
    """A job as it travels to the worker: the check pickled apart, so that one check that cannot
    be loaded there is that check's ``error``, not a dead worker."""

    check_id: str
    check: bytes
    params: dict[str, Any]


def run_checks(jobs: list[Job], context: CheckContext, limits: Limits) -> dict[str, Result]:
    """Run every job against ``context`` (whose ``params`` are replaced per job); results by check id."""
    results: dict[str, Result] = {}
    pending: list[_Parcel] = []
    for job in jobs:
        try:
            pending.append(_Parcel(job.check.id, pickle.dumps(job.check), job.params))
        except Exception as exc:  # e.g. a check whose code holds a lock or an open file
            results[job.check.id] = errored(
                f"the check cannot be sent to its worker process: {type(exc).__name__}: {exc}", reason="load"
            )
    while pending:
        worker = _pool.take(limits.memory_mb)
        reusable = False
        try:
            reusable = _run_on(worker, context, pending, results, limits)
        finally:
            if reusable:
                _pool.give_back(worker)
            else:
                worker.stop()
    return results


def _run_on(
    worker: _Worker, context: CheckContext, pending: list[_Parcel], results: dict[str, Result], limits: Limits
) -> bool:
    """Run the pending checks on ``worker``, taking each answered one off ``pending`` into
    ``results``; whether the worker may serve another scan. A worker that had died while idle
    answers nothing and takes no check down with it: the caller gives the checks to another."""
    was_idle, answered = worker.served > 0, 0
    try:
        worker.conn.send((context, pending))
    except (BrokenPipeError, ConnectionResetError):
        if was_idle:
            return False
        raise
    worker.served += 1
    while pending:
        current = pending[0].check_id
        # The deadline runs from the moment the check starts, not from the worker's start-up.
        started = worker.conn.poll(STARTUP_SECONDS) and _receive(worker.conn) == ("start", current)
        if not started and was_idle and not answered:
            return False
        if started and not worker.conn.poll(limits.timeout_seconds):
            results[current] = errored(
                f"timed out after {limits.timeout_seconds:g}s; the check was stopped", reason="timeout"
            )
            pending.pop(0)
            return False
        message = _receive(worker.conn) if started else None
        if message is None:
            worker.process.join(5)
            results[current] = errored(_death_message(worker.process.exitcode, limits), reason="crash")
            pending.pop(0)
            return False
        results[current] = Result.from_dict(message[2])
        pending.pop(0)
        answered += 1
    return _receive(worker.conn) == ("idle", True)


RECYCLE_MB = 200  # a worker that grew past this resident size is stopped after its scan, not reused
MAX_IDLE_WORKERS = 4  # kept for the next scans; one per scanning thread is all a scan worker needs


@dataclass
class _Worker:
    process: Any  # a forkserver Process
    conn: Connection
    memory_mb: int
    served: int = 0  # scans sent to it

    @classmethod
    def start(cls, memory_mb: int) -> _Worker:
        parent_end, child_end = _context.Pipe()
        process = _context.Process(target=_serve, args=(child_end, memory_mb), daemon=True, name="prr-check-worker")
        with _main_module_hidden():
            process.start()
        child_end.close()
        return cls(process, parent_end, memory_mb)

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


class _Pool:
    """The idle workers of this process (a forked child starts with none: its parent's are not its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._pid = os.getpid()

    def take(self, memory_mb: int) -> _Worker:
        """The idle worker given back last (with this memory cap), else a new one."""
        found = None
        with self._lock:
            self._forget_if_forked()
            for worker in reversed(self._idle):
                if worker.memory_mb == memory_mb:
                    self._idle.remove(worker)
                    found = worker
                    break
        if found is not None and found.process.is_alive():
            return found
        if found is not None:  # killed while idle (by the OOM killer, say)
            found.stop()
        return _Worker.start(memory_mb)

    def give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._forget_if_forked()
            if len(self._idle) < MAX_IDLE_WORKERS:
                self._idle.append(worker)
                return
        worker.stop()

    def clear(self) -> None:
        """Stop every idle worker."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def __len__(self) -> int:
        return len(self._idle)

    def _forget_if_forked(self) -> None:
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()


_pool = _Pool()


_main_lock = threading.Lock()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start workers without the caller's ``__main__``.

    multiprocessing re-imports the parent's main script in each new process; workers need nothing
    from it, and a script without an ``if __name__ == "__main__"`` guard (or code read from stdin)
    would run again or fail there.
    """
    main = sys.modules["__main__"]
    with _main_lock:
        saved: dict[str, Any] = {
            name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__
        }
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
        try:
            yield
        finally:
            main.__dict__.update(saved)


def _receive(receiver: Connection) -> tuple | None:
    """The worker's next message, or None when it died."""
    try:
        return receiver.recv()
    except (EOFError, ConnectionResetError):
        return None


def _death_message(exitcode: int | None, limits: Limits) -> str:
    if exitcode is not None and exitcode < 0:
        return f"the check's process was killed by signal {-exitcode} (memory limit {limits.memory_mb} MiB exceeded?)"
    return f"the check's process died (exit code {exitcode})"


def _serve(conn: Connection, memory_mb: int) -> None:
    """A worker: run each scan's checks in turn, until the parent closes the pipe or kills it."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while (scan := _receive(conn)) is not None:
        context, parcels = scan
        for parcel in parcels:
            conn.send(("start", parcel.check_id))
            conn.send(("done", parcel.check_id, _run_one(parcel, context).to_dict()))
        context.repo.close()
        del context, parcels, scan
        conn.send(("idle", _resident_mb() <= RECYCLE_MB))
    conn.close()


def _resident_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_one(parcel: _Parcel, context: CheckContext) -> Result:
    try:
        check: Check = pickle.loads(parcel.check)
    except Exception as exc:  # its module fails to import here, or names something else
        return errored(
            f"the check could not be loaded in its worker process: {type(exc).__name__}: {exc}", reason="load"
        )
    try:
        context.params = parcel.params
        result = check.run(context)
        if not isinstance(result, Result):
            return errored(f"the check returned {type(result).__name__}, not a Result", reason="crash")
        result.status = Status(result.status)
        return result
    except MemoryError:
        return errored("the check ran out of memory and was stopped", reason="memory")
    except Exception as exc:  # a crashing check is an error result, never a crashed scan
        return errored(
            f"the check crashed: {type(exc).__name__}: {exc}", reason="crash", traceback=traceback.format_exc(limit=8)
        )
