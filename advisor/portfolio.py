"""A portfolio of partnerships: many profiles evaluated in worker processes, in input order.

Reading is the profile room's (advisor.profile.reading) and what is kept of each report the
report room's (advisor.report.summary); this module adds only the worker pool.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from .api import Advisor, as_of_date
from .engine import check
from .errors import AdvisorError, UsageError
from .knowledge import KnowledgeBase
from .profile.reading import Source, expand_inputs, read_profiles
from .profile.validation import LoadedProfile
from .report.findings import Report
from .report.summary import PortfolioSummary, ProfileRecord, Recorder
from .rulebook import PathLike, Rulebook, load_rules
from .words import quoted

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

# multiprocessing and concurrent.futures are imported by the worker pool that uses them: one profile, or
# --jobs 1, is evaluated in this process, and the command line's start-up does not pay for them.

__all__ = ["Outcome", "evaluate_portfolio", "summarize", "expand_inputs", "PortfolioSummary", "ProfileRecord"]

#: Profiles handed to a worker at a time, at most.
MAX_CHUNK = 32
#: With jobs=None, fewer sources than this are evaluated in this process: starting workers
#: (a fork and an Advisor each, about 0.1 s) costs more than it saves.
PARALLEL_MIN = 32

#: At most this many workers per core: the work is CPU-bound, so more only cost memory (about 40 MiB each).
JOBS_PER_CORE = 2


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def max_jobs() -> int:
    """The most worker processes a portfolio starts, whatever `jobs` asks for: JOBS_PER_CORE per core."""
    return JOBS_PER_CORE * cores()


#: A renderer turns a report into output (text or bytes); it runs in the worker processes.
Render = Callable[[Report, KnowledgeBase], "str | bytes"]


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Outcome:
    """What became of one profile: what is kept of its report and its rendered output, or its error."""

    source: str
    record: ProfileRecord | None = None
    output: str | bytes | None = None
    error: str | None = None
    #: The error is an argument that named no profile (a glob without matches), not a profile's.
    unmatched: bool = False


def _message(name: str, exc: BaseException) -> str:
    if isinstance(exc, AdvisorError) and exc.location is not None:
        return str(exc)
    if isinstance(exc, AdvisorError):
        return f"{name}: {exc}"
    return f"{name}: internal error ({type(exc).__name__}: {exc}); please report it"


class _Worker:
    """One Advisor evaluating sources, in this process or in a worker process."""

    def __init__(self, rules: Rulebook, engine: str | None, as_of: date, render: Render | None):
        self.advisor = Advisor(rules, engine=engine)
        self.rule_ids = rules.known
        self.recorder = Recorder(rules)
        self.knowledge = rules.knowledge
        self.as_of = as_of
        self.render = render

    def run(self, sources: Sequence[Source], keep: Callable[[Outcome], Outcome] | None = None) -> list[Outcome]:
        """The outcomes of the sources' profiles, each passed through `keep` (when given) as it is made."""
        out = []
        for src in sources:
            try:
                for name, loaded in read_profiles(src, self.rule_ids):
                    outcome = self.evaluate(name, loaded)
                    out.append(outcome if keep is None else keep(outcome))
            except Exception as exc:  # a bug in reading: the source is lost, not the chunk
                out.append(Outcome(src.name, error=_message(src.name, exc)))
        return out

    def evaluate(self, name: str, loaded: LoadedProfile | AdvisorError) -> Outcome:
        if isinstance(loaded, AdvisorError):
            return Outcome(name, error=_message(name, loaded))
        try:
            report = self.advisor.report(loaded, self.as_of)
            output = self.render(report, self.knowledge) if self.render is not None else None
            return Outcome(name, self.recorder.record(report), output)
        except Exception as exc:  # a bad profile (or a bug) stops this profile only
            return Outcome(name, error=_message(name, exc))

    def close(self) -> None:
        self.advisor.close()


_worker: _Worker | None = None


def _start_worker(*args: Any) -> None:
    global _worker
    # Ctrl-C stops the command in the parent, which then stops the workers; SIGTERM ends a worker at once
    # (not the handler a forked worker inherits from the command line).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _end_with_parent()
    _worker = _Worker(*args)


def _end_with_parent() -> None:
    """On Linux, ask for SIGTERM when the parent dies (even by SIGKILL), so that no worker outlives it."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ImportError):  # not Linux
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _stop(executor: ProcessPoolExecutor) -> None:
    """Stop an executor's workers now (the run was stopped or abandoned), then shut it down."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        process.join(5)
        if process.exitcode is None:
            with contextlib.suppress(Exception):
                process.kill()
                process.join(5)
    # A worker stopped while sending its result leaves half a message, which the pool's thread waits to
    # read in full: with the workers gone, closing this process's end of their pipe ends that read.
    with contextlib.suppress(Exception):
        executor._result_queue._writer.close()  # type: ignore[attr-defined]
    executor.shutdown(wait=True, cancel_futures=True)


def _run_chunk(sources: Sequence[Source]) -> list[Outcome]:
    assert _worker is not None
    return _worker.run(sources)


class _Spool:
    """Passed to _Worker.run: writes each outcome's rendered bytes to a file as the outcome is made, and keeps the
    outcome without them and their length (-1: not in the file, the outcome keeps its output)."""

    def __init__(self, fh: Any):
        self.fh = fh
        self.sizes: list[int] = []
        self.failed = False

    def __call__(self, outcome: Outcome) -> Outcome:
        data = outcome.output
        if isinstance(data, bytes) and not self.failed:
            try:
                written = self.fh.write(data)  # unbuffered: a failure shows here, for this outcome
            except OSError:
                written = None
            if written == len(data):
                self.sizes.append(written)
                return replace(outcome, output=None)
            self.failed = True  # a full disk, say: this outcome and the rest through the pipe
        self.sizes.append(-1)
        return outcome


def _open_slot(path: str) -> Any:
    """A chunk's file, unbuffered, for writing from its start. Not truncated: the file is used again by later
    chunks (see _Pool._submit), and writing over its pages costs less than freeing them and taking new ones; the
    lengths _run_spooled returns say where this chunk's bytes end."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600), "wb", buffering=0)


def _run_spooled(sources: Sequence[Source], path: str) -> tuple[list[Outcome], list[int] | None]:
    """A chunk whose rendered bytes go to the file `path` as each profile is done: the outcomes without them and
    each one's length in the file (-1: none there); or, when the file cannot be made, the outcomes whole and None.

    A chunk of JSON is megabytes: through the pool's pipe, a worker would wait on the parent (busy receiving
    another worker's) to read it 64 KiB at a time; a file takes it at once, and the parent reads it back when the
    chunk's turn comes. Written as it is made, each output is freed at once, as with one job, rather than the
    chunk's piling up in memory.
    """
    assert _worker is not None
    try:
        fh = _open_slot(path)
    except OSError:
        return _worker.run(sources), None
    spool = _Spool(fh)
    try:
        outcomes = _worker.run(sources, spool)
    finally:
        with contextlib.suppress(OSError):
            fh.close()
    return outcomes, spool.sizes


def _unspool(result: tuple[list[Outcome], list[int] | None], path: str) -> list[Outcome]:
    """The outcomes of _run_spooled with their bytes read back from `path`."""
    outcomes, sizes = result
    if sizes is None:
        return outcomes
    out = []
    # Unbuffered: each read fills its own bytes object, straight from the file, without a copy in between.
    with open(path, "rb", buffering=0) as fh:
        for outcome, size in zip(outcomes, sizes):
            out.append(outcome if size < 0 else replace(outcome, output=_read(fh, size)))
    return out


def _read(fh: Any, size: int) -> bytes:
    data = fh.read(size)
    while len(data) < size:  # a short read (rare on a file): the rest
        more = fh.read(size - len(data))
        if not more:
            raise OSError(f"{fh.name}: {len(data)} bytes where {size} were written")
        data += more
    return data


def _exit_reason(processes: Sequence[Any]) -> str:
    for process in processes:
        process.join(1)
        code = process.exitcode
        if code is not None and code < 0:
            try:
                return f"its worker process was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"its worker process was killed by signal {-code}"
        if code:
            return f"its worker process exited with status {code}"
    return "its worker process died"


class _Pool:
    """Worker processes evaluating chunks of sources, in order, with a bounded number of chunks in flight."""

    def __init__(self, jobs: int, initargs: tuple, engine: str):
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        # fork: a worker starts with advisor already imported and the rules already loaded.
        self.context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.jobs = jobs
        self.initargs = initargs
        self.engine = engine
        self.executor: ProcessPoolExecutor | None = None
        #: Chunks submitted and not yet collected: enough to keep every worker busy, few enough
        #: that finished results never pile up in memory while an earlier chunk is still running.
        self.window = 3 * jobs
        #: The folder of the chunks' output files (see _run_spooled), made with the pool and removed with it: window + 1
        #: files, each used in turn (a parent killed by SIGKILL leaves it in the temporary folder).
        self.spool: str | None = None
        self.chunks = 0

    def _new(self, workers: int) -> ProcessPoolExecutor:
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(workers, mp_context=self.context, initializer=_start_worker, initargs=self.initargs)

    def _submit(self, chunk: list[Source]) -> tuple[Future, str | None] | None:
        from concurrent.futures.process import BrokenProcessPool

        if self.spool is None:
            import tempfile

            try:
                self.spool = tempfile.mkdtemp(prefix="advisor-chunks-")
            except OSError:  # no temporary folder to write in: the outputs come through the pipe
                self.spool = ""
        if self.executor is None:
            self.executor = self._new(self.jobs)
        # A chunk is submitted once the chunk window + 1 before it is collected (run keeps at most `window` in
        # flight): it can take that chunk's file.
        self.chunks += 1
        path = os.path.join(self.spool, str(self.chunks % (self.window + 1))) if self.spool else None
        try:
            if path is None:
                return self.executor.submit(_run_chunk, chunk), None
            return self.executor.submit(_run_spooled, chunk, path), path
        except BrokenProcessPool:
            return None  # collected like a chunk lost with the pool

    def run(self, batches: Iterable[list[Source] | Outcome], progress: Callable[[int], None] | None) -> Iterator[Outcome]:
        pending: deque[tuple[list[Source] | Outcome, tuple[Future, str | None] | None]] = deque()
        try:
            for batch in batches:
                pending.append((batch, None) if isinstance(batch, Outcome) else (batch, self._submit(batch)))
                while len(pending) > self.window:
                    yield from self._collect(pending.popleft(), progress)
            while pending:
                yield from self._collect(pending.popleft(), progress)
        except BaseException:  # stopped (a signal, the consumer closing the generator early) or failed
            if self.executor is not None:
                _stop(self.executor)
                self.executor = None
            raise
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)
            if self.spool:  # the files of chunks not collected (the run was stopped)
                import shutil

                shutil.rmtree(self.spool, ignore_errors=True)
                self.spool = None

    def _collect(self, entry: tuple[list[Source] | Outcome, tuple[Future, str | None] | None], progress) -> list[Outcome]:
        from concurrent.futures import CancelledError
        from concurrent.futures.process import BrokenProcessPool

        batch, submitted = entry
        if isinstance(batch, Outcome):
            outcomes = [batch]
        else:
            try:
                outcomes = None
                if submitted is not None:
                    future, path = submitted
                    outcomes = future.result() if path is None else _unspool(future.result(), path)
            except (BrokenProcessPool, CancelledError):
                # Cancelled: the pool broke, and shutting it down cancelled this chunk before the pool's own
                # thread had marked it broken (a race seen on a loaded machine): lost with the pool all the same.
                outcomes = None
            if outcomes is None:
                # A worker died (durable-rules can crash the process) and took the pool with it:
                # every chunk in flight is lost. Start afresh, and re-run this chunk one profile
                # at a time, so that only the profile that crashes is lost.
                if self.executor is not None:
                    self.executor.shutdown(wait=True, cancel_futures=True)
                    self.executor = None
                outcomes = self._isolated(batch)
        if progress is not None:
            progress(1 if isinstance(batch, Outcome) else len(batch))
        return outcomes

    def _isolated(self, chunk: list[Source]) -> list[Outcome]:
        from concurrent.futures.process import BrokenProcessPool

        out: list[Outcome] = []
        executor: ProcessPoolExecutor | None = None
        try:
            for src in chunk:
                executor = executor or self._new(1)
                future = executor.submit(_run_chunk, [src])
                processes = list(getattr(executor, "_processes", {}).values())
                try:
                    out.extend(future.result())
                except BrokenProcessPool:
                    # Shut down first: the pool's own thread reaps the dead worker, and a second waitpid
                    # racing it would find no child and leave the exit code unknown.
                    executor.shutdown(wait=True)
                    executor = None
                    out.append(Outcome(src.name, error=f"{src.name}: the {self.engine} engine crashed ({_exit_reason(processes)})"))
        except BaseException:
            if executor is not None:
                _stop(executor)
                executor = None
            raise
        finally:
            if executor is not None:
                executor.shutdown(wait=True)
        return out


def _batches(items: Iterable[Source | AdvisorError], size: int, jobs: int = 1, count: int = 0) -> Iterator[list[Source] | Outcome]:
    """Sources in chunks of `size`; an error in the input comes as an Outcome between them, in its place.

    Given the `count` of sources, the last chunks shrink (to a quarter of what is left per worker) so that the
    workers finish together rather than one waiting out another's last full chunk.
    """
    chunk: list[Source] = []
    left = count

    def limit() -> int:
        return max(1, min(size, left // (4 * jobs))) if count else size

    most = limit()
    for item in items:
        if isinstance(item, AdvisorError):
            if chunk:
                yield chunk
                chunk = []
            where = str(item.location.source) if item.location else ""
            yield Outcome(where, error=str(item), unmatched=isinstance(item, UsageError))
            continue
        chunk.append(item)
        if len(chunk) >= most:
            left -= len(chunk)
            most = limit()
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def chunk_size(count: int, jobs: int) -> int:
    """Sources per chunk: about eight chunks per worker, at most MAX_CHUNK (few chunks mean idle workers at
    the end; many mean more messages between the processes)."""
    return max(1, min(MAX_CHUNK, count // (8 * jobs)))


def evaluate_portfolio(
    inputs: Iterable[Source | AdvisorError | str | os.PathLike],
    *,
    rules: Sequence[PathLike] | Rulebook = (),
    engine: str | None = None,
    as_of: date | str | None = None,
    jobs: int | None = 1,
    render: Render | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Outcome]:
    """Evaluate every profile of a portfolio; yields one Outcome per profile, in input order.

    `inputs` are paths, folders and globs (expanded with expand_inputs) or Sources. With
    `jobs` > 1 (None: one per core, or one in all for fewer than PARALLEL_MIN sources) the
    profiles are evaluated in that many worker processes
    (durable-rules holds the GIL, so threads would not help); the outcomes and their order are
    the same as with one job, which evaluates in this process; at most max_jobs() workers (two
    per core) are started, however many are asked for. `render(report, knowledge)`,
    when given, runs where the report is made (it must be picklable when the platform cannot
    fork) and its result comes back as `Outcome.output`; reports themselves never leave their
    process, so memory stays bounded however many profiles there are. A profile that cannot be
    read, or whose evaluation fails or even crashes its worker, gives an Outcome with `error`
    (naming its file) and the others are still evaluated. `progress(n)`, when given, is called
    as each n sources are done.
    """
    rulebook = rules if isinstance(rules, Rulebook) else load_rules(rules)
    day = as_of_date(as_of)
    expanded = (x for item in inputs for x in (expand_inputs([item]) if isinstance(item, (str, os.PathLike)) else [item]))
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool)):
        raise UsageError(f"jobs must be a whole number or None, not {quoted(jobs)}")
    if jobs is not None and jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    initargs = (rulebook, engine, day, render)
    if jobs == 1:
        return _in_process(expanded, initargs, progress)
    # Sources are small (a path and a byte range): listing them all sizes the chunks.
    listed = list(expanded)
    count = sum(1 for item in listed if isinstance(item, Source))
    if jobs is None:
        jobs = cores() if count >= PARALLEL_MIN else 1
    jobs = min(jobs, max_jobs())
    if min(jobs, count) <= 1:
        return _in_process(listed, initargs, progress)
    # Checked here, so that a missing durable-rules is one clear error rather than a broken pool.
    name = check(engine)
    jobs = min(jobs, count)
    return _Pool(jobs, initargs, name).run(_batches(listed, chunk_size(count, jobs), jobs, count), progress)


def _in_process(items: Iterable[Source | AdvisorError], initargs: tuple, progress: Callable[[int], None] | None) -> Iterator[Outcome]:
    evaluator = _Worker(*initargs)

    def outcomes() -> Iterator[Outcome]:
        try:
            for batch in _batches(items, 1):
                yield from [batch] if isinstance(batch, Outcome) else evaluator.run(batch)
                if progress is not None:
                    progress(1)
        finally:
            evaluator.close()

    return outcomes()


def summarize(
    inputs: Iterable[Source | AdvisorError | str | os.PathLike],
    *,
    rules: Sequence[PathLike] | Rulebook = (),
    engine: str | None = None,
    as_of: date | str | None = None,
    jobs: int | None = 1,
    top: int = 10,
    fail_on: str = "high",
) -> PortfolioSummary:
    """Evaluate a portfolio (as evaluate_portfolio) and return only its summary."""
    rulebook = rules if isinstance(rules, Rulebook) else load_rules(rules)
    summary = PortfolioSummary(rulebook, top=top, fail_on=fail_on)
    for outcome in evaluate_portfolio(inputs, rules=rulebook, engine=engine, as_of=as_of, jobs=jobs):
        if outcome.error is not None:
            summary.add_error(outcome.error, unmatched=outcome.unmatched)
        else:
            summary.add(outcome.record)
    return summary
