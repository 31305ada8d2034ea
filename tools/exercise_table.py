"""Write the table of every exercise of the course into book/instructors.md (between the
markers ``<!-- exercises:start -->`` and ``<!-- exercises:end -->``), from the registered checks:
exercise id, kind, points and what the check verifies, chapter by chapter.

    .venv/bin/python tools/exercise_table.py          # rewrite the table
    .venv/bin/python tools/exercise_table.py --check  # exit 1 when it is stale (tests do this)
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "instructors.md"
START, END = "<!-- exercises:start -->", "<!-- exercises:end -->"


def table():
    """The Markdown table, one row per exercise in notebook order, and a line of totals."""
    sys.path.insert(0, str(ROOT))
    from seqlearn.checks.core import EXERCISES
    from seqlearn.grading.grader import load_checks
    from seqlearn.grading.submission import load_sources

    load_checks()
    lines = ["| Chapter | Exercise | Kind | Points | What the check verifies |",
             "|---|---|---|---:|---|"]
    totals = []
    for source in load_sources(ROOT / "book"):
        chapter = source.path.stem
        points = 0
        for exercise in source.exercises:
            info = EXERCISES[exercise.exercise_id]
            points += info.points
            lines.append(f"| {chapter} | `{exercise.exercise_id}` | {info.kind} | {info.points} "
                         f"| {info.summary} |")
        totals.append(f"{chapter}: {points}")
    lines += ["", "Points per chapter: " + "; ".join(totals) + "."]
    return "\n".join(lines)


def updated_page():
    text = PAGE.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{PAGE} lacks the markers {START} and {END}")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table()}\n{END}{after}"


def main(argv):
    new = updated_page()
    if "--check" in argv:
        if PAGE.read_text(encoding="utf-8") != new:
            print(f"{PAGE.relative_to(ROOT)}: the exercise table is stale; run "
                  "tools/exercise_table.py")
            return 1
        return 0
    PAGE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
