"""Who submitted what: the student of each submitted file, and which of a student's files count.

A student is identified by the first of these that applies:

1. the instructor's **roster** (``--roster roster.csv``, columns ``id``, ``name`` and ``folder``;
   ``folder`` is a folder name or a file pattern such as ``*smith*``, matched against the
   submission's path relative to the folder given to ``seqlearn grade``);
2. the **per-student folder**: a file at ``submissions/ada/04_bptt.ipynb`` belongs to ``ada``
   (the first folder below the one given to ``seqlearn grade``);
3. the notebook's metadata ``student_id`` (set by a course's own submission system);
4. the **file name** without its extension.

When a student handed in several files for the same chapter (resubmissions), ``keep`` says which
count: ``latest`` (the default; by modification time, then by path), ``best`` (highest total,
then latest) or ``all``.
"""

import csv
import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .submission import safe_name

KEEP = ("latest", "best", "all")


@dataclass
class RosterEntry:
    student_id: str
    name: str
    pattern: str


@dataclass
class Identity:
    student_id: str
    name: str = ""
    how: str = "file name"      # roster, folder, metadata or file name
    relative_path: str = ""     # the submission's path relative to the folder it was found in


def read_roster(path):
    """The entries of a roster CSV (columns ``id``, ``name``, ``folder``; a header row).

    Raises ``ValueError`` naming the file and what is wrong with it."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as err:
        raise ValueError(f"roster: cannot read {path} ({err.strerror})") from None
    if not rows:
        raise ValueError(f"roster: {path} has no rows (expected a header id,name,folder and one "
                         "row per student)")
    missing = {"id", "folder"} - set(rows[0])
    if missing:
        raise ValueError(f"roster: {path} lacks the column(s) {sorted(missing)}; expected the "
                         f"header id,name,folder, got {list(rows[0])}")
    entries, seen = [], set()
    for k, row in enumerate(rows, start=2):
        sid, pattern = (row.get("id") or "").strip(), (row.get("folder") or "").strip()
        if not sid or not pattern:
            raise ValueError(f"roster: {path} line {k} needs both an id and a folder, got {row}")
        if sid in seen:
            raise ValueError(f"roster: {path} line {k} repeats the id {sid!r}")
        seen.add(sid)
        entries.append(RosterEntry(safe_name(sid), (row.get("name") or "").strip(), pattern))
    return entries


def _matches(entry, relative):
    parts = PurePosixPath(relative).parts
    return (len(parts) > 1 and parts[0] == entry.pattern) or fnmatch.fnmatch(relative, entry.pattern) \
        or fnmatch.fnmatch(PurePosixPath(relative).name, entry.pattern)


def identify(relative_path, metadata_id=None, roster=()):
    """The :class:`Identity` of the file at ``relative_path`` (relative to the folder given to
    ``seqlearn grade``, or just its name), by the rules of this module."""
    relative = PurePosixPath(relative_path).as_posix()
    for entry in roster:
        if _matches(entry, relative):
            return Identity(entry.student_id, entry.name, "roster", relative)
    parts = PurePosixPath(relative).parts
    if len(parts) > 1:
        return Identity(safe_name(parts[0]), "", "folder", relative)
    if isinstance(metadata_id, (str, int)) and str(metadata_id).strip():
        return Identity(safe_name(str(metadata_id).strip()), "", "metadata", relative)
    return Identity(safe_name(PurePosixPath(relative).stem), "", "file name", relative)


def choose(results, keep="latest"):
    """Mark which results count: sets ``result.counted`` to True or False and, for a result
    that does not count, ``result.superseded_by`` to the relative path of the one that does.
    Results are grouped by student and chapter; invalid files (no chapter) always count."""
    if keep not in KEEP:
        raise ValueError(f"keep: expected one of {', '.join(KEEP)}, got {keep!r}")
    groups = {}
    for r in results:
        r.counted, r.superseded_by = True, ""
        if r.notebook and keep != "all":
            groups.setdefault((r.student_id, r.notebook), []).append(r)
    for group in groups.values():
        if len(group) < 2:
            continue
        if keep == "latest":
            winner = max(group, key=lambda r: (r.modified, r.relative_path))
        else:
            winner = max(group, key=lambda r: (r.total, r.modified, r.relative_path))
        for r in group:
            if r is not winner:
                r.counted, r.superseded_by = False, winner.relative_path
    return results


__all__ = ["KEEP", "RosterEntry", "Identity", "read_roster", "identify", "choose"]
