"""Command-line part of ``seqlearn grade`` (wired into ``seqlearn.cli`` as a subcommand).

``python -m seqlearn.grading.cli SUBMISSIONS... --out grades.csv`` also works on its own.
"""

import argparse
import sys
from pathlib import Path

from .roster import KEEP


def default_source_dir():
    """The installed course's ``book/`` folder, or ``./book`` when that does not exist."""
    import seqlearn

    candidate = Path(seqlearn.__file__).resolve().parent.parent / "book"
    return candidate if candidate.is_dir() else Path("book")


def add_arguments(parser):
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSIONS",
                        help="submitted notebooks, or folders searched recursively")
    parser.add_argument("--out", required=True, help="the CSV gradebook to write (e.g. grades.csv); "
                        "feedback/ and results/ are written next to it")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds allowed per exercise (default 30)")
    parser.add_argument("--memory-mb", type=int, default=1024,
                        help="memory allowed to the student's code per exercise, MB (default 1024)")
    parser.add_argument("--source", default=None,
                        help="folder with the source notebooks (default: the course's book/)")
    parser.add_argument("--roster", default=None,
                        help="CSV with columns id,name,folder naming each student's folder or file "
                             "pattern (default: the per-student folder, then the notebook's "
                             "metadata, then the file name)")
    parser.add_argument("--keep", choices=KEEP, default="latest",
                        help="which of a student's files for one chapter count: latest (default, "
                             "by modification time), best, or all")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without Bubblewrap (only resource limits and an audit hook "
                             "isolate the student's code); needed where bwrap is missing")
    return parser


def run(args):
    from .grader import grade_all, write_outputs
    from .isolation import bwrap_status
    from .roster import read_roster

    source = Path(args.source) if args.source else default_source_dir()
    if not source.is_dir():
        print(f"error: source notebook folder {source} not found (use --source)", file=sys.stderr)
        return 2
    try:
        roster = read_roster(args.roster) if args.roster else ()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.no_sandbox:
        print("warning: --no-sandbox: the student's code runs without Bubblewrap; resource limits "
              "and an audit hook are all that isolate it (not a security boundary)", file=sys.stderr)
    else:
        available, why = bwrap_status()
        if not available:
            print(f"error: the grading sandbox is not available: {why}. Install bubblewrap, or "
                  "pass --no-sandbox to grade with the weaker isolation", file=sys.stderr)
            return 2
    missing = [s for s in args.submissions if not Path(s).exists()]
    for s in missing:
        print(f"warning: {s} does not exist", file=sys.stderr)
    results = grade_all([s for s in args.submissions if s not in missing], source,
                        jobs=max(1, args.jobs), timeout=args.timeout, memory_mb=args.memory_mb,
                        isolate=not args.no_sandbox, roster=roster, keep=args.keep)
    write_outputs(results, args.out)
    full = sum(r.max_total > 0 and r.total == r.max_total for r in results)
    review = sum(r.status != "ok" for r in results)
    print(f"graded {len(results)} submission(s) ({full} with full marks, {review} to review) "
          f"-> {args.out}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="seqlearn grade", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["default_source_dir", "add_arguments", "run", "main"]
