"""A cache of checked and compiled rules, keyed by the bytes of the files they came from (as Python caches bytecode).

Loading and checking ~30 rule files and compiling them costs ~100 ms, most of a command's
start-up; reading the result back costs a few. The key is a digest of the bytes of every rule
file and the knowledge base (and their paths, advisor's, Python's and pydantic's versions), so
any edit recompiles, even one that keeps a file's size and modification time (as tar, rsync -t
and cp -p do). advisor's own modules (~55 files, 640 KB, which every start would read and hash)
enter the key by their status instead, as git's index sees a change: path, inode, size,
modification time and change time (ctime), all to the nanosecond. Writing a file sets its ctime
to the present, and no program can set it back (tar, rsync and cp -p restore the modification
time, not the change time), so an edit that keeps size and modification time is still seen; a
new install writes new files (new inodes and ctimes). A rule file with a mistake is never
cached: it fails to load on every run.
Set ADVISOR_NO_CACHE=1 to switch the cache off, ADVISOR_CACHE_DIR to move it. One more entry, per
interpreter, keeps the compiled methods of the dataclasses the command line imports (DataclassCode).

A cache entry is a pickle, and reading a pickle can run code, so an entry is only read when
nobody but the user can have written it:

* the cache folder must be the user's own and writable by nobody else (checked on the open
  folder, so it cannot be swapped between the check and the read), else it is not used;
* an entry must be a regular file of the user's, writable by nobody else;
* an entry is authenticated (HMAC-SHA256) with a random key kept in the folder, readable by
  the user alone, over its name and its bytes: a damaged entry, one copied in from elsewhere
  or one renamed to another key is ignored and rebuilt.

The cache deletes only entries it can authenticate (which it wrote itself). Whatever goes
wrong with it costs only start-up time; `--verbose` says why in one line (the "advisor"
logger). The cache is used on POSIX systems only.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import hmac
import os
import pickle
import stat
import sys
import time
from typing import Any, Iterable, Iterator

FORMAT = 10  # 3: a Rulebook keeps the durable-rules plan; 4: and the python engine's compiled stages; 5: and the
#             facts builder's; 6: and the profile's validator; 7: and the durable engine's fact encoders; 8: a stage's
#             rules pickled apart (engine.ir.Stage); 9: the knowledge base as plain records, the profile's validator
#             pickled apart and its twin into plain records (profile.validation.record_validator); 10: each engine's
#             part of a Rulebook in a section of the entry (rulebook._PARTS), read when the engine asks for it
#: The first bytes of an entry, then its 32-byte MAC, the pickle's length (8 bytes, little-endian) and the pickle; then
#: its sections (store's `sections`), each its tag's length (1 byte) and tag, its MAC, its length and its pickle.
MAGIC = b"advisor rules cache 3\n"
#: The entries' names: rules-<digest>.cache. (Format 1 wrote rules-<digest>.pickle; those are left alone.)
PREFIX, SUFFIX = "rules-", ".cache"
KEY_FILE = "key"
KEY_BYTES = 32
#: An entry larger than this is not read (the shipped rules compile to about 250 KB).
MAX_ENTRY_BYTES = 64 * 1024 * 1024
#: A file hashed for the key larger than this is not cached (rule files over 4 MiB are refused anyway).
MAX_HASHED_BYTES = 16 * 1024 * 1024
#: Entries older than this (not used since) are deleted when a new one is written.
MAX_AGE_SECONDS = 86400

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def cache_dir() -> str | None:
    """The cache folder, or None when the cache is switched off; written as a pathlib.Path prints it (the notes
    name it so), without importing pathlib, which a start that reads the cache needs nowhere else."""
    if os.environ.get("ADVISOR_NO_CACHE"):
        return None
    explicit = os.environ.get("ADVISOR_CACHE_DIR")
    if explicit:
        return _as_path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return _as_path(base + "/advisor")


def _as_path(name: str) -> str:
    """str(pathlib.PurePosixPath(name)): no empty or "." parts, no trailing slash, "." for nothing; a leading "//"
    (and only two) kept."""
    root = ""
    if name.startswith("/"):
        root = "//" if name.startswith("//") and not name.startswith("///") else "/"
    return root + "/".join(part for part in name.split("/") if part and part != ".") or "."


def _in(folder: str, name: str) -> str:
    """str(pathlib.Path(folder) / name) for a folder written as _as_path writes it and a plain file name."""
    return name if folder == "." else folder + name if folder.endswith("/") else f"{folder}/{name}"


def _supported() -> bool:
    return os.name == "posix" and hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd


def key(files: Iterable[str | os.PathLike], version: str) -> str | None:
    """A digest of the files' paths and bytes, with the status of advisor's own modules; None when a file cannot
    be hashed (not a regular file, or too large): then nothing is cached and the loader reports the file."""
    import pydantic

    digest = hashlib.sha256(f"{FORMAT}|{version}|{sys.version}|{pydantic.VERSION}".encode())
    folders: dict[str, str] = {}
    for path in files:
        data = _read_regular(str(path), MAX_HASHED_BYTES)
        if data is None:
            return None
        digest.update(f"{_realpath(os.fspath(path), folders)}|{len(data)}\n".encode())
        digest.update(data)
    for path, st in _own_modules():
        digest.update(f"{path}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _realpath(path: str, folders: dict[str, str]) -> str:
    """os.path.realpath(path), with each folder resolved once (in folders): a file that is not itself a link is at its
    folder's real path, under its own name. (realpath looks at every folder on the way, for each of ~40 files.)"""
    folder, name = os.path.split(path)
    if name in ("", ".", "..") or os.path.islink(path):
        return os.path.realpath(path)
    real = folders.get(folder)
    if real is None:
        real = folders[folder] = os.path.realpath(folder)
    return os.path.join(real, name)


def _own_modules() -> list[tuple[str, os.stat_result]]:
    """advisor's modules (every *.py file of the package, recursively) with their status, in a stable order."""
    found, folders = [], [os.path.realpath(os.path.dirname(__file__))]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.name.endswith(".py") and entry.is_file():
                    found.append((entry.path, entry.stat()))
                elif entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    folders.append(entry.path)
    return sorted(found, key=lambda item: item[0])


def _read_regular(path: str, limit: int, dir_fd: int | None = None, *, own: bool = False,
                  follow: bool = True) -> bytes | None:
    """The bytes of a regular file of at most limit bytes (with own: one of the user's that nobody else
    can write), else None. Opened without blocking, so a FIFO in its place cannot hang the read."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | (0 if follow else _NOFOLLOW), dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit or (own and not _private(st, 0o022)):
            return None
        # One read of the size fstat gave (and one byte more, to see the end), so that a whole entry arrives in one
        # buffer: reading it in pieces and joining them copied a megabyte on every start. A file that grew since is
        # read on, up to limit + 1 bytes.
        chunks, size, want = [], 0, min(st.st_size, limit) + 1
        while size <= limit:
            chunk = os.read(fd, min(want, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            want = 1 << 20
        return (chunks[0] if len(chunks) == 1 else b"".join(chunks)) if size <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _private(st: os.stat_result, forbidden: int) -> bool:
    """Owned by this user, and none of the `forbidden` mode bits (group and other access) set."""
    return st.st_uid == os.geteuid() and not st.st_mode & forbidden


def folder_problem(st: os.stat_result) -> str | None:
    """Why a folder with this status is not safe for the cache, or None when it is."""
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    if st.st_uid != os.geteuid():
        return f"it belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return "other users can write to it"
    return None


_noted: set[str] = set()


def _note(message: str) -> None:
    if message not in _noted:  # once per process: a load and a store may meet the same problem
        _noted.add(message)
        import logging  # only when there is something to say: a start that uses the cache does not import it

        logging.getLogger("advisor").info("%s", message)


def _open_folder(create: bool) -> tuple[int, str] | None:
    """The cache folder, opened and checked; None (with a note saying why, when it exists) when it cannot be used."""
    folder = cache_dir()
    if folder is None or not _supported():
        return None
    if create and not _is_folder(folder):
        from pathlib import Path  # only to make the folder

        try:
            Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            _note(f"not using the rules cache {folder}: cannot create it ({exc.strerror or exc})")
            return None
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        _note(f"not using the rules cache {folder}: {exc.strerror or exc}")
        return None
    problem = folder_problem(os.fstat(fd))
    if problem:
        os.close(fd)
        _note(f"not using the rules cache {folder}: {problem}")
        return None
    return fd, folder


def _is_folder(path: str) -> bool:
    """Whether a folder is there already (where Path.mkdir(exist_ok=True) does nothing)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _secret(fd: int, create: bool) -> bytes | None:
    """The folder's key: a regular file of the user's that only the user can read; made when missing (or bad)."""
    data = _read_regular(KEY_FILE, KEY_BYTES, fd, follow=False)
    if data is not None and len(data) == KEY_BYTES:
        with contextlib.suppress(OSError):
            if _private(os.stat(KEY_FILE, dir_fd=fd, follow_symlinks=False), 0o077):
                return data
    if not create:
        return None
    import secrets  # (with random and base64) only to write

    data = secrets.token_bytes(KEY_BYTES)
    _put(fd, KEY_FILE, data, 0o600)
    return data


def _put(fd: int, name: str, data: bytes, mode: int) -> None:
    """Write a file in the folder whole or not at all: a new temporary file, renamed over name."""
    import secrets

    tmp = f".{name}.{secrets.token_hex(8)}.tmp"
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, mode, dir_fd=fd)
    try:
        with os.fdopen(out, "wb") as fh:
            fh.write(data)
        os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        tmp = ""
    finally:
        if tmp:
            try:
                os.unlink(tmp, dir_fd=fd)
            except OSError:
                pass


def _mac(secret: bytes, name: str, payload: bytes | memoryview, tag: str | None = None) -> bytes:
    """HMAC-SHA256 over the entry's name, a NUL and the payload; for a section, over the name, \\1, its tag, a NUL
    and its payload (no section's message is ever the entry's). Fed in parts: joining them copied the payload."""
    mac = hmac.new(secret, name.encode() + (b"\0" if tag is None else b"\1" + tag.encode() + b"\0"), hashlib.sha256)
    mac.update(payload)
    return mac.digest()


_LENGTH = 8


def _payload(secret: bytes, name: str, data: bytes) -> memoryview | None:
    """The entry's own pickle (a view of data, not a copy) when it is authentic, else None."""
    head = len(MAGIC) + 32 + _LENGTH
    if len(data) < head or not data.startswith(MAGIC):
        return None
    size = int.from_bytes(data[head - _LENGTH:head], "little")
    if head + size > len(data):
        return None
    payload = memoryview(data)[head:head + size]
    return payload if hmac.compare_digest(data[len(MAGIC):len(MAGIC) + 32], _mac(secret, name, payload)) else None


def _entry(secret: bytes, name: str, payload: bytes, sections: dict[str, bytes]) -> bytes:
    parts = [MAGIC, _mac(secret, name, payload), len(payload).to_bytes(_LENGTH, "little"), payload]
    for tag, data in sections.items():
        raw = tag.encode()
        parts += [len(raw).to_bytes(1, "little"), raw, _mac(secret, name, data, tag), len(data).to_bytes(_LENGTH, "little"),
                  data]
    return b"".join(parts)


class Sections:
    """The sections of an entry read with load(sections=True): each authenticated and unpickled only when asked for,
    so that a run reads (with the entry) but checks and unpickles only the parts it uses. Not picklable: it holds the
    folder's key."""

    def __init__(self, secret: bytes, name: str, data: bytes, start: int, where: str):
        self._secret, self._name, self._data, self._start, self._where = secret, name, data, start, where

    def __reduce__(self) -> Any:
        raise TypeError("cache.Sections holds the cache's key and is not pickled")

    def get(self, tag: str) -> Any | None:
        """The section's value, or None (with a note) when it is missing, not authentic or cannot be read."""
        data, pos, view = self._data, self._start, memoryview(self._data)
        while pos < len(data):
            size = data[pos]
            found = bytes(view[pos + 1:pos + 1 + size]).decode("utf-8", "replace")
            pos += 1 + size
            mac, length = view[pos:pos + 32], int.from_bytes(view[pos + 32:pos + 32 + _LENGTH], "little")
            pos += 32 + _LENGTH
            if found == tag:
                payload = view[pos:pos + length]
                if pos + length > len(data) or not hmac.compare_digest(mac, _mac(self._secret, self._name, payload, tag)):
                    break
                return _unpickle(payload, self._where)
            pos += length
        _note(f"ignoring the {tag} part of the rules cache {self._where}: it is missing or damaged; working it out")
        return None


def _unpickle(payload: memoryview, where: str) -> Any | None:
    collecting = gc.isenabled()
    gc.disable()  # the rules unpickle into ~100k objects, none of them garbage: collecting meanwhile only costs time
    try:
        return pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001 - an authentic entry advisor can no longer read: rebuild it
        _note(f"ignoring the rules cache {where}: it cannot be read ({type(exc).__name__}); rebuilding it")
        return None
    finally:
        if collecting:
            gc.enable()


def entry_name(digest: str) -> str:
    return f"{PREFIX}{digest}{SUFFIX}"


def load(digest: str | None, *, sections: bool = False) -> Any | None:
    """The value cached under digest, or None: no cache, no entry, or one that is not safe to read or damaged. With
    sections, the value and the entry's Sections (or None)."""
    if digest is None:
        return None
    opened = _open_folder(create=False)
    if opened is None:
        return None
    fd, folder = opened
    try:
        found = _load(fd, folder, entry_name(digest))
    except OSError:
        return None
    finally:
        os.close(fd)
    return found if sections or found is None else found[0]


def _load(fd: int, folder: str, name: str) -> tuple[Any, Sections] | None:
    try:
        os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None  # not cached yet
    secret = _secret(fd, create=False)
    data = _read_regular(name, MAX_ENTRY_BYTES, fd, own=True, follow=False)
    if data is None or secret is None:
        why = "it is not a regular file of yours that only you can write" if secret is not None else \
            "the folder's key is missing or readable by others"
        _note(f"ignoring the rules cache {_in(folder, name)}: {why}; rebuilding it")
        return None
    payload = _payload(secret, name, data)
    if payload is None:
        _note(f"ignoring the rules cache {_in(folder, name)}: it is damaged or was not written here; rebuilding it")
        return None
    value = _unpickle(payload, _in(folder, name))
    if value is None:
        return None
    with contextlib.suppress(OSError):  # in use: not pruned as unused
        os.utime(name, dir_fd=fd, follow_symlinks=False)
    return value, Sections(secret, name, data, len(MAGIC) + 32 + _LENGTH + len(payload), _in(folder, name))


def store(digest: str | None, value: Any, sections: dict[str, Any] | None = None) -> None:
    """Cache value under digest (with sections, each read apart: load(sections=True)), and delete this cache's own
    entries unused for a day. Failing only costs time."""
    if digest is None:
        return
    opened = _open_folder(create=True)
    if opened is None:
        return
    fd, folder = opened
    try:
        secret = _secret(fd, create=True)
        assert secret is not None
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        apart = {tag: pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL) for tag, part in (sections or {}).items()}
        name = entry_name(digest)
        _put(fd, name, _entry(secret, name, payload, apart), 0o600)
        _prune(fd, secret, keep=name)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        _note(f"cannot write the rules cache in {folder}: {getattr(exc, 'strerror', None) or exc}")
    finally:
        os.close(fd)


def _prune(fd: int, secret: bytes, keep: str) -> None:
    """Delete entries older than MAX_AGE_SECONDS that this cache wrote (they authenticate with its key)."""
    old = time.time() - MAX_AGE_SECONDS
    with os.scandir(fd) as entries:
        names = [e.name for e in entries if e.name.startswith(PREFIX) and e.name.endswith(SUFFIX) and e.name != keep]
    for name in names:
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if st.st_mtime >= old or not stat.S_ISREG(st.st_mode):
                continue
            data = _read_regular(name, MAX_ENTRY_BYTES, fd, own=True, follow=False)
            if data is not None and _payload(secret, name, data) is not None:
                os.unlink(name, dir_fd=fd)
        except OSError:
            continue


# -- dataclasses' generated methods ------------------------------------------------------------------------------

#: A memo this large (bytes) is not added to: it holds the methods of every dataclass the commands import (~0.5 MB).
MAX_CODE_BYTES = 4 * 1024 * 1024


class DataclassCode:
    """Compiled code for the methods `dataclasses` writes as source, kept in the cache by their source text.

    `@dataclass` writes each method it adds (__init__, __repr__, __eq__, __hash__, a frozen class's __setattr__ and
    __delattr__) as Python source and compiles it with exec(), for every class, on every start: the ~110 dataclasses
    a command imports (advisor's, pydantic's, annotated_types') are ~460 such sources, ~160,000 characters: with them
    compiled from the memo, `advisor evaluate one.yaml` runs 22% fewer instructions (callgrind). While the command line's
    imports run, dataclasses' exec() compiles through this memo instead (start, then stop), as Python's own .pyc
    files keep the compiled code of a module's source: a source found runs its kept code, which is what compiling
    that source gives (the same compile, with no inherited flags, as dataclasses' exec of a string); a source not
    found is compiled as before and kept. The memo is a cache entry like the rules' (see above: the user's own,
    authenticated), keyed by the interpreter, whose bytecode it is; nothing but the code for these sources is kept.
    """

    def __init__(self, known: dict[str, Any]):
        self.known = known
        self.used: dict[str, Any] = {}
        self.missed = 0
        self._kept = 0  # misses already stored

    @classmethod
    def start(cls) -> DataclassCode | None:
        """The memo, read from the cache and handed to dataclasses; None (and dataclasses left alone) when the cache is
        off or this Python's dataclasses does not compile with a global exec (as CPython 3.11 to 3.13 do)."""
        import dataclasses

        if cache_dir() is None or "exec" in vars(dataclasses) or not _supported():
            return None
        import marshal

        known: dict[str, Any] = {}
        data = load(_code_digest())
        if isinstance(data, bytes):
            try:
                value = marshal.loads(data)
            except (EOFError, ValueError, TypeError):
                value = None
            if isinstance(value, dict):
                known = value
        memo = cls(known)
        dataclasses.exec = memo.exec  # type: ignore[attr-defined]  (a module global shadows the builtin for it alone)
        return memo

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:  # exec's own parameters
        if type(source) is str:
            code = self.known.get(source)
            if code is None:
                code = self.known[source] = compile(source, "<string>", "exec", dont_inherit=True)
                self.missed += 1
            self.used[source] = code
            source = code
        exec(source, globals, locals)  # noqa: S102  (dataclasses' own generated methods)

    def stop(self) -> None:
        """Give dataclasses its exec back, and keep the code compiled meanwhile (with what was known) when any was."""
        import dataclasses
        import marshal

        if vars(dataclasses).get("exec") == self.exec:
            del dataclasses.exec  # type: ignore[attr-defined]
        if self.missed == self._kept:
            return
        data = marshal.dumps(self.known)
        if len(data) > MAX_CODE_BYTES:
            data = marshal.dumps(self.used)
        store(_code_digest(), data)
        self._kept = self.missed

    @staticmethod
    @contextlib.contextmanager
    def resumed(memo: DataclassCode | None) -> Iterator[None]:
        """Hand dataclasses the memo again (after stop) while a command imports what start-up left out; then stop. Inside
        another resumed() (a group's command), the outer one stops."""
        import dataclasses

        if memo is None or vars(dataclasses).get("exec") == memo.exec:
            yield
            return

        dataclasses.exec = memo.exec  # type: ignore[attr-defined]
        try:
            yield
        finally:
            memo.stop()


def _code_digest() -> str:
    """The memo's entry: one per interpreter, since the code is its bytecode."""
    return hashlib.sha256(f"{FORMAT}|dataclass code|{sys.version}|{sys.implementation.cache_tag}".encode()).hexdigest()[:32]
