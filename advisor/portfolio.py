"""A portfolio of partnerships: many profiles read from files, folders, globs, JSON Lines and multi-document YAML,
evaluated in worker processes, and summed up as counts that say what matters across them."""

from __future__ import annotations

import glob
import heapq
import json
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from .errors import AdvisorError, Location, ProfileError, UsageError
from .knowledge import KnowledgeBase, load_knowledge
from .language import RuleSet
from .profile import LoadedProfile, validate
from .report import ACTION_KINDS, SEVERITY_ORDER, Report, leaves_step_open
from .yamlio import MAX_FILE_BYTES, Document, YamlError, decode, load_documents, read_problem, read_text

#: A folder stands for the files with these endings inside it, at any depth.
PROFILE_SUFFIXES = (".yaml", ".yml")
#: Files with these endings hold one profile (a JSON object) per line.
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
#: A YAML file larger than this is split into its documents before evaluation, so that its
#: profiles are spread over the workers; a smaller one is read whole by one worker.
SPLIT_BYTES = 256 * 1024
#: Profiles handed to a worker at a time, at most.
MAX_CHUNK = 32
#: With jobs=None, fewer sources than this are evaluated in this process: starting workers
#: (a fork and an Advisor each, about 0.1 s) costs more than it saves.
PARALLEL_MIN = 32

#: A renderer turns a report into output (text or bytes); it runs in the worker processes.
Render = Callable[[Report, KnowledgeBase], "str | bytes"]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Source:
    """Where profiles are read from: a whole YAML file, one document of a large YAML file, or one JSON line.

    `name` is how reports and errors call it: the path, `path#N` for the Nth document of a
    YAML file holding several, `path:LINE` for a line of a JSON Lines file.
    """

    path: str
    kind: str = "file"  # "file" | "document" | "line"
    start: int = 0  # byte range of a document or line
    end: int = 0
    line: int = 1  # the line it starts on
    index: int = 0  # the document's number in its file (from 1)

    @property
    def name(self) -> str:
        if self.kind == "line":
            return f"{self.path}:{self.line}"
        if self.kind == "document":
            return f"{self.path}#{self.index}"
        return self.path


def _order(path: str) -> tuple[str, ...]:
    # Sorting by path parts puts a folder's files and subfolders in name order, as rule folders are read.
    return tuple(os.path.normpath(path).split(os.sep))


def folder_profiles(folder: str) -> list[str]:
    """Every *.yaml and *.yml file inside a folder, at any depth, sorted by path.

    Hidden files and folders (a name starting with a dot) are skipped, and symbolic links to
    folders are not followed (a loop cannot make the walk endless).
    """
    found = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(os.path.join(top, f) for f in files if f.endswith(PROFILE_SUFFIXES) and not f.startswith("."))
    return sorted(found, key=_order)


def expand_inputs(args: Iterable[str | os.PathLike]) -> Iterator[Source | AdvisorError]:
    """The sources named by command-line style arguments, in the order given.

    A folder gives its YAML files (see folder_profiles); an argument that is not a file and
    holds `*`, `?` or `[` is a glob (`**` matches folders at any depth), giving its matching
    files in path order. A JSON Lines file (*.jsonl, *.ndjson) gives one source per line, and a
    YAML file over SPLIT_BYTES one source per document. A folder without profiles, a glob
    without matches or a file that cannot be read gives an error in its place; a missing
    profile is passed on (the loader reports it where it stands).
    """
    for arg in args:
        arg = os.fspath(arg)
        if os.path.isdir(arg):
            found = folder_profiles(arg)
            if not found:
                yield UsageError("no profiles (*.yaml, *.yml) in this folder", Location(arg))
            for path in found:
                yield from file_sources(path)
        elif not os.path.exists(arg) and any(c in arg for c in "*?["):
            found = sorted((p for p in glob.glob(arg, recursive=True) if os.path.isfile(p)), key=_order)
            if not found:
                yield UsageError("no files match this pattern", Location(arg))
            for path in found:
                yield from file_sources(path)
        else:
            yield from file_sources(arg)


def file_sources(path: str) -> Iterator[Source | AdvisorError]:
    """The sources of one file: one per JSON line, one per document of a large YAML file, else the file."""
    if path.endswith(JSON_LINES_SUFFIXES):
        yield from _json_lines(path)
        return
    try:
        large = os.path.getsize(path) > SPLIT_BYTES
    except OSError:
        large = False  # the worker reports the file as it finds it
    if large:
        documents = list(_yaml_documents(path))
        if len(documents) > 1:
            yield from documents
            return
    yield Source(path)


def _lines(path: str) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, line) of a file read in binary; a read error becomes a ProfileError."""
    try:
        with open(path, "rb") as fh:
            offset = 0
            for number, line in enumerate(fh, 1):
                yield number, offset, line
                offset += len(line)
    except OSError as exc:
        raise ProfileError(read_problem(exc), Location(path)) from None


def _json_lines(path: str) -> Iterator[Source | AdvisorError]:
    count = 0
    try:
        for number, offset, line in _lines(path):
            if line.strip():
                count += 1
                yield Source(path, "line", offset, offset + len(line), number)
    except ProfileError as exc:
        yield exc
        return
    if not count:
        yield ProfileError("holds no profiles (a JSON Lines file has one profile per line)", Location(path))


def _is_marker(line: bytes, marker: bytes) -> bool:
    return line.startswith(marker) and (len(line) == 3 or line[3:4] in (b" ", b"\t", b"\r", b"\n"))


def _yaml_documents(path: str) -> Iterator[Source | AdvisorError]:
    """The documents of a YAML file as byte ranges, found without parsing.

    YAML forbids a line that starts with `---` or `...` (then a space or the end of the line)
    anywhere but as a document marker, even inside a quoted or block scalar, so splitting there
    is exact. Comments and directives before a `---` belong to the document it starts.
    """
    start, first_line, content, index = 0, 1, False, 0
    try:
        for number, offset, line in _lines(path):
            if _is_marker(line, b"---"):
                if content:
                    index += 1
                    yield Source(path, "document", start, offset, first_line, index)
                    start, first_line = offset, number
                content = True
            elif _is_marker(line, b"..."):
                if content:
                    index += 1
                    yield Source(path, "document", start, offset + len(line), first_line, index)
                start, first_line, content = offset + len(line), number + 1, False
            elif not content and line.strip() and not line.startswith((b"#", b"%")):
                content = True
            end = offset + len(line)
        if content:
            index += 1
            yield Source(path, "document", start, end, first_line, index)
    except ProfileError as exc:
        yield exc


def _read_range(src: Source) -> bytes:
    size = src.end - src.start
    if size > MAX_FILE_BYTES:
        what = "line" if src.kind == "line" else "document"
        raise ProfileError(f"{what} is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes", Location(src.name))
    try:
        with open(src.path, "rb") as fh:
            fh.seek(src.start)
            return fh.read(size)
    except OSError as exc:
        raise ProfileError(f"cannot read: {exc.strerror or exc}", Location(src.path)) from None


def _shifted(location: Location, source: str, lines: int) -> Location:
    return Location(source, location.line + lines if location.line is not None else None, location.column)


def read_profiles(src: Source, rule_ids: set[str] | None = None) -> Iterator[tuple[str, LoadedProfile | AdvisorError]]:
    """(name, validated profile or the error that stops it) for every profile a source holds.

    A whole YAML file holding several documents gives one profile per document, named
    `path#N`; its lines are the file's own.
    """
    if src.kind == "line":
        try:
            text = decode(_read_range(src), src.name)
            data = json.loads(text)
        except ProfileError as exc:
            yield src.name, exc
            return
        except YamlError as exc:  # not UTF-8
            yield src.name, ProfileError(exc.message, Location(src.path, src.line, exc.location.column))
            return
        except json.JSONDecodeError as exc:
            yield src.name, ProfileError(f"invalid JSON: {exc.msg}", Location(src.path, src.line, exc.colno))
            return
        except RecursionError:
            yield src.name, ProfileError("invalid JSON: nested more than the parser allows", Location(src.name))
            return
        yield src.name, _validate(data, src.name, None, rule_ids)
        return
    if src.kind == "document":
        offset = src.line - 1
        try:
            text = decode(_read_range(src), src.name)
            parsed = list(load_documents(text, src.name))
        except ProfileError as exc:
            yield src.name, exc
            return
        except YamlError as exc:
            yield src.name, ProfileError(exc.message, _shifted(exc.location, src.name, offset), exc.field)
            return
        doc = parsed[0] if parsed else Document(None, src.name)
        marks = {path: (line + offset, column) for path, (line, column) in doc.marks.items()}
        yield src.name, _validate(doc.data, src.name, Document(doc.data, src.name, marks), rule_ids)
        return
    docs: list[Document] = []
    error: ProfileError | None = None
    try:
        for doc in load_documents(read_text(src.path), src.path):
            docs.append(doc)
    except YamlError as exc:
        error = ProfileError(exc.message, exc.location, exc.field)
    several = len(docs) + (error is not None) > 1
    if not docs and error is None:
        docs = [Document(None, src.path)]  # an empty file: "the profile is empty"
    for n, doc in enumerate(docs, 1):
        name = f"{src.path}#{n}" if several else src.path
        yield name, _validate(doc.data, name, Document(doc.data, name, doc.marks) if several else doc, rule_ids)
    if error is not None:
        if several:  # the document being read when the error came
            name = f"{src.path}#{len(docs) + 1}"
            yield name, ProfileError(error.message, _shifted(error.location, name, 0), error.field)
        else:
            yield src.path, error


def _validate(data: Any, name: str, doc: Document | None, rule_ids: set[str] | None) -> LoadedProfile | ProfileError:
    try:
        return validate(data, name, doc, rule_ids)
    except ProfileError as exc:
        return exc


# --------------------------------------------------------------------------- what is kept of a report


@dataclass(frozen=True)
class ProfileRecord:
    """What a portfolio keeps of one report: its counts, the rules that fired and the steps in place per area.

    Small and quick to pickle (a Report is neither): worker processes send these back. It has
    the `profile_name` and `summary` of a Report, so the one-line summary of a report reads it too.
    """

    profile_name: str
    source: str
    summary: dict[str, Any]
    #: (rule id, kind, severity) of each rule that fired, once, at the worst severity it fired
    #: with, in the report's order. Plain tuples: named ones take ten times longer to pickle.
    rules: tuple[tuple[str, str, str], ...]
    #: Actionable steps of the guide in place, per area, in the order of the knowledge base's areas.
    coverage: tuple[int, ...]
    #: The severity of the worst finding other than a strength, or "none".
    worst_severity: str = "none"

    @property
    def high(self) -> int:
        return self.summary["by_severity"]["high"]

    @property
    def score(self) -> int:
        return self.summary["score"]

    def worst(self, threshold: str) -> bool:
        """True when a finding other than a strength is at or above the threshold severity (as Report.worst)."""
        if threshold == "never" or self.worst_severity == "none":
            return False
        return SEVERITY_ORDER[self.worst_severity] <= SEVERITY_ORDER[threshold]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.profile_name, "source": self.source, "summary": self.summary}


class Recorder:
    """Turns reports into ProfileRecords, from the hits alone (no finding is explained)."""

    def __init__(self, ruleset: RuleSet, knowledge: KnowledgeBase):
        self.refs = {rule.id: rule.refs for rule in ruleset.rules}
        self.steps = [tuple(sid for sid in area.ids if knowledge.sections[sid].actionable) for area in knowledge.areas]

    def record(self, report: Report) -> ProfileRecord:
        # Coverage as in the advice document (advisor.documents.area_coverage), from the hits alone.
        open_ids: set[str] = set()
        rules: dict[str, tuple[str, str, str]] = {}
        worst = "none"
        for hit in report.hits:  # sorted by severity first: the first hit of a rule is its worst
            if leaves_step_open(hit.kind, hit.severity):
                open_ids.update(self.refs.get(hit.rule, ()))
            if hit.kind != "strength" and worst == "none":
                worst = hit.severity
            if hit.rule not in rules:
                rules[hit.rule] = (hit.rule, hit.kind, hit.severity)
        coverage = tuple(sum(1 for sid in steps if sid not in open_ids) for steps in self.steps)
        return ProfileRecord(report.profile_name, report.source, report.summary, tuple(rules.values()), coverage, worst)


# --------------------------------------------------------------------------- the summary


class RuleCount(NamedTuple):
    """How many profiles a rule fired on, and at which severities."""

    rule: str
    title: str
    kind: str
    profiles: int
    by_severity: dict[str, int]

    @property
    def severity(self) -> str:
        """The worst severity it fired with."""
        return min(self.by_severity, key=SEVERITY_ORDER.__getitem__)


class AreaTotal(NamedTuple):
    """One area of the guide across the portfolio: steps in place out of all steps, and profiles with all in place."""

    area: str
    title: str
    in_place: int
    total: int
    complete: int

    @property
    def share(self) -> float:
        return self.in_place / self.total if self.total else 1.0


class PortfolioSummary:
    """What matters across a portfolio, kept as counts so that memory does not grow with its size.

    `add` a Report (or a ProfileRecord) per profile and `add_error` per profile that could not
    be evaluated; only counters, per-area sums and the `top` profiles most at risk are kept,
    never the reports.

    >>> summary = PortfolioSummary.for_advisor(advisor)
    >>> for result in advisor.evaluate_many(paths):
    ...     summary.add_error(result) if isinstance(result, AdvisorError) else summary.add(result)
    """

    def __init__(self, ruleset: RuleSet, knowledge: KnowledgeBase | None = None, *, top: int = 10, fail_on: str = "high"):
        self.knowledge = knowledge or load_knowledge()
        self.recorder = Recorder(ruleset, self.knowledge)
        self.titles = {rule.id: (rule.title, rule.kind) for rule in ruleset.rules}
        self.top = top
        self.fail_on = fail_on
        #: Profiles evaluated, and profiles that could not be (with the first `top` errors).
        self.evaluated = 0
        self.failed = 0
        self.errors: list[str] = []
        #: Profiles with a high-severity finding; with a finding at or above fail_on.
        self.with_high = 0
        self.at_fail_on = 0
        self.score_total = 0
        #: Profiles by their worst finding (strengths aside): high, medium, low, info or none.
        self.worst_severity: dict[str, int] = dict.fromkeys((*SEVERITY_ORDER, "none"), 0)
        #: (rule id, severity) -> profiles it fired on with that as its worst severity.
        self._fired: dict[tuple[str, str], int] = {}
        self._in_place = [0] * len(self.recorder.steps)
        self._complete = [0] * len(self.recorder.steps)
        self._at_risk: list[tuple[tuple[int, int, int], ProfileRecord]] = []  # a min-heap of the top most at risk

    @classmethod
    def for_advisor(cls, advisor: Any, **options: Any) -> "PortfolioSummary":
        """A summary that names the rules of this Advisor."""
        return cls(advisor.ruleset, advisor.knowledge, **options)

    @property
    def profiles(self) -> int:
        return self.evaluated + self.failed

    @property
    def mean_score(self) -> float | None:
        return self.score_total / self.evaluated if self.evaluated else None

    def add(self, item: Report | ProfileRecord) -> ProfileRecord:
        """Count one evaluated profile; returns what was kept of it."""
        record = item if isinstance(item, ProfileRecord) else self.recorder.record(item)
        self.evaluated += 1
        self.score_total += record.score
        if record.high:
            self.with_high += 1
        if record.worst(self.fail_on):
            self.at_fail_on += 1
        self.worst_severity[record.worst_severity] += 1
        fired = self._fired
        for rule, _, severity in record.rules:
            key = (rule, severity)
            fired[key] = fired.get(key, 0) + 1
        for i, (done, steps) in enumerate(zip(record.coverage, self.recorder.steps)):
            self._in_place[i] += done
            self._complete[i] += done == len(steps)
        if self.top and record.high:
            # Most at risk: most high findings, then lowest score, then earliest in the portfolio.
            key = (record.high, -record.score, -self.evaluated)
            entry = (key, record)
            if len(self._at_risk) < self.top:
                heapq.heappush(self._at_risk, entry)
            elif key > self._at_risk[0][0]:
                heapq.heapreplace(self._at_risk, entry)
        return record

    def add_error(self, error: AdvisorError | str) -> None:
        """Count one profile that could not be evaluated."""
        self.failed += 1
        if len(self.errors) < self.top:
            self.errors.append(str(error))

    def most_common(self, kind: str, n: int | None = None) -> list[RuleCount]:
        """The rules of this kind that fired on the most profiles, most first (then by rule id)."""
        by_rule: dict[str, dict[str, int]] = {}
        for (rule, severity), n_profiles in sorted(self._fired.items(), key=lambda kv: SEVERITY_ORDER[kv[0][1]]):
            if self.titles.get(rule, (None, None))[1] == kind:
                by_rule.setdefault(rule, {})[severity] = n_profiles
        counts = [RuleCount(rule, self.titles[rule][0], kind, sum(sev.values()), sev) for rule, sev in by_rule.items()]
        counts.sort(key=lambda c: (-c.profiles, SEVERITY_ORDER[c.severity], c.rule))
        return counts[: self.top if n is None else n]

    def most_at_risk(self) -> list[ProfileRecord]:
        """Up to `top` profiles with high-severity findings: the most such findings (then the lowest score) first."""
        return [record for _, record in sorted(self._at_risk, key=lambda e: e[0], reverse=True)]

    def coverage(self) -> list[AreaTotal]:
        """Per area of the guide, in the guide's order: steps in place over all evaluated profiles."""
        return [
            AreaTotal(area.name, area.title, self._in_place[i], len(steps) * self.evaluated, self._complete[i])
            for i, (area, steps) in enumerate(zip(self.knowledge.areas, self.recorder.steps))
        ]

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data (the JSON of `advisor evaluate --summary-only --format json`)."""
        return {
            "profiles": self.profiles,
            "evaluated": self.evaluated,
            "failed": self.failed,
            "errors": list(self.errors),
            "with_high": self.with_high,
            "fail_on": self.fail_on,
            "at_or_above_fail_on": self.at_fail_on,
            "mean_score": round(self.mean_score, 1) if self.mean_score is not None else None,
            "worst_severity": dict(self.worst_severity),
            "most_common": {
                kind: [{"rule": c.rule, "title": c.title, "profiles": c.profiles, "by_severity": c.by_severity}
                       for c in self.most_common(kind)]
                for kind in ACTION_KINDS
            },
            "most_at_risk": [r.to_dict() for r in self.most_at_risk()],
            "coverage": [{"area": a.area, "title": a.title, "in_place": a.in_place, "total": a.total, "complete": a.complete}
                         for a in self.coverage()],
        }


class OverviewRow(NamedTuple):
    """One profile's row in the portfolio overview: its counts and document, or why it could not be evaluated."""

    source: str
    name: str | None = None
    document: str | None = None  # the file name of its advice document, next to the overview
    high: int = 0
    medium: int = 0
    low: int = 0
    score: int | None = None
    error: str | None = None

    @classmethod
    def of(cls, outcome: "Outcome", document: str | None = None) -> "OverviewRow":
        if outcome.record is None:
            return cls(outcome.source, error=outcome.error)
        r = outcome.record
        sev = r.summary["by_severity"]
        return cls(r.source, r.profile_name, document, sev["high"], sev["medium"], sev["low"], r.score)


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Outcome:
    """What became of one profile: what is kept of its report and its rendered output, or its error."""

    source: str
    record: ProfileRecord | None = None
    output: str | bytes | None = None
    error: str | None = None


def _message(name: str, exc: BaseException) -> str:
    if isinstance(exc, AdvisorError) and exc.location is not None:
        return str(exc)
    if isinstance(exc, AdvisorError):
        return f"{name}: {exc}"
    return f"{name}: internal error ({type(exc).__name__}: {exc}); please report it"


class _Evaluator:
    """One Advisor evaluating sources, in this process or in a worker process."""

    def __init__(self, rules: RuleSet, engine: str | None, as_of: date, render: Render | None):
        from .api import Advisor

        self.advisor = Advisor(rules, engine=engine)
        self.rule_ids = self.advisor.ruleset.ids
        self.recorder = Recorder(self.advisor.ruleset, self.advisor.knowledge)
        self.as_of = as_of
        self.render = render

    def run(self, sources: Sequence[Source]) -> list[Outcome]:
        out = []
        for src in sources:
            try:
                for name, loaded in read_profiles(src, self.rule_ids):
                    out.append(self.evaluate(name, loaded))
            except Exception as exc:  # a bug in reading: the source is lost, not the chunk
                out.append(Outcome(src.name, error=_message(src.name, exc)))
        return out

    def evaluate(self, name: str, loaded: LoadedProfile | AdvisorError) -> Outcome:
        if isinstance(loaded, AdvisorError):
            return Outcome(name, error=_message(name, loaded))
        try:
            report = self.advisor.evaluate(loaded, as_of=self.as_of)
            output = self.render(report, self.advisor.knowledge) if self.render is not None else None
            return Outcome(name, self.recorder.record(report), output)
        except Exception as exc:  # a bad profile (or a bug) stops this profile only
            return Outcome(name, error=_message(name, exc))

    def close(self) -> None:
        self.advisor.close()


_worker: _Evaluator | None = None


def _start_worker(*args: Any) -> None:
    global _worker
    # Ctrl-C stops the command in the parent, which then stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = _Evaluator(*args)


def _run_chunk(sources: Sequence[Source]) -> list[Outcome]:
    assert _worker is not None
    return _worker.run(sources)


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

    def _new(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=self.context, initializer=_start_worker, initargs=self.initargs)

    def _submit(self, chunk: list[Source]) -> Future | None:
        if self.executor is None:
            self.executor = self._new(self.jobs)
        try:
            return self.executor.submit(_run_chunk, chunk)
        except BrokenProcessPool:
            return None  # collected like a chunk lost with the pool

    def run(self, batches: Iterable[list[Source] | Outcome], progress: Callable[[int], None] | None) -> Iterator[Outcome]:
        pending: deque[tuple[list[Source] | Outcome, Future | None]] = deque()
        try:
            for batch in batches:
                pending.append((batch, None) if isinstance(batch, Outcome) else (batch, self._submit(batch)))
                while len(pending) > self.window:
                    yield from self._collect(pending.popleft(), progress)
            while pending:
                yield from self._collect(pending.popleft(), progress)
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)

    def _collect(self, entry: tuple[list[Source] | Outcome, Future | None], progress) -> list[Outcome]:
        batch, future = entry
        if isinstance(batch, Outcome):
            outcomes = [batch]
        else:
            try:
                outcomes = future.result() if future is not None else None
            except BrokenProcessPool:
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
        out: list[Outcome] = []
        executor: ProcessPoolExecutor | None = None
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
        if executor is not None:
            executor.shutdown(wait=True)
        return out


def _batches(items: Iterable[Source | AdvisorError], size: int) -> Iterator[list[Source] | Outcome]:
    """Sources in chunks of `size`; an error in the input comes as an Outcome between them, in its place."""
    chunk: list[Source] = []
    for item in items:
        if isinstance(item, AdvisorError):
            if chunk:
                yield chunk
                chunk = []
            where = str(item.location.source) if item.location else ""
            yield Outcome(where, error=str(item))
            continue
        chunk.append(item)
        if len(chunk) >= size:
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
    rules: Sequence[str | os.PathLike] | RuleSet = (),
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
    the same as with one job, which evaluates in this process. `render(report, knowledge)`,
    when given, runs where the report is made (it must be picklable when the platform cannot
    fork) and its result comes back as `Outcome.output`; reports themselves never leave their
    process, so memory stays bounded however many profiles there are. A profile that cannot be
    read, or whose evaluation fails or even crashes its worker, gives an Outcome with `error`
    (naming its file) and the others are still evaluated. `progress(n)`, when given, is called
    as each n sources are done.
    """
    from .api import as_of_date, load_rules
    from .engine import check

    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    day = as_of_date(as_of)
    expanded = (x for item in inputs for x in (expand_inputs([item]) if isinstance(item, (str, os.PathLike)) else [item]))
    if jobs is not None and jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    initargs = (ruleset, engine, day, render)
    if jobs == 1:
        return _in_process(expanded, initargs, progress)
    # Sources are small (a path and a byte range): listing them all sizes the chunks.
    listed = list(expanded)
    count = sum(1 for item in listed if isinstance(item, Source))
    if jobs is None:
        jobs = (os.cpu_count() or 1) if count >= PARALLEL_MIN else 1
    if min(jobs, count) <= 1:
        return _in_process(listed, initargs, progress)
    # Checked here, so that a missing durable-rules is one clear error rather than a broken pool.
    name = check(engine)
    jobs = min(jobs, count)
    return _Pool(jobs, initargs, name).run(_batches(listed, chunk_size(count, jobs)), progress)


def _in_process(items: Iterable[Source | AdvisorError], initargs: tuple, progress: Callable[[int], None] | None) -> Iterator[Outcome]:
    evaluator = _Evaluator(*initargs)

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
    rules: Sequence[str | os.PathLike] | RuleSet = (),
    engine: str | None = None,
    as_of: date | str | None = None,
    jobs: int | None = 1,
    top: int = 10,
    fail_on: str = "high",
) -> PortfolioSummary:
    """Evaluate a portfolio (as evaluate_portfolio) and return only its summary."""
    from .api import load_rules

    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    summary = PortfolioSummary(ruleset, top=top, fail_on=fail_on)
    for outcome in evaluate_portfolio(inputs, rules=ruleset, engine=engine, as_of=as_of, jobs=jobs):
        if outcome.error is not None:
            summary.add_error(outcome.error)
        else:
            summary.add(outcome.record)
    return summary
