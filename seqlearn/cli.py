"""The ``seqlearn`` command (also ``python -m seqlearn``).

    seqlearn release book --out student/book      # student editions: solutions removed
    seqlearn doctor [--grading]                   # versions, CUDA, the right 'seqlearn', sandbox
    seqlearn gradescope --out autograder.zip      # a Gradescope autograder for the chapters
    seqlearn grade SUBMISSIONS... --out grades.csv
"""

import argparse
import importlib
import sys

GRADING_MODULE = "seqlearn.grading.cli"


def _run_release(args):
    from .release import MalformedExerciseError, release

    try:
        written = release(args.paths, args.out)
    except MalformedExerciseError as err:
        print(f"seqlearn release: malformed exercise: {err}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as err:
        print(f"seqlearn release: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"seqlearn release: {len(written)} student notebook(s) written to {args.out}")
    return 0


def _run_doctor(args):
    from . import doctor

    return doctor.main(["--grading"] if args.grading else [])


def build_parser(with_grading=True):
    """The argument parser. ``with_grading``: add the grading options, which imports the grading
    module; ``main`` does so only when the grade command is asked for."""
    parser = argparse.ArgumentParser(
        prog="seqlearn", description="Tools of the course Sequence Learning.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    release = commands.add_parser(
        "release", help="write student editions of notebooks (solutions removed)",
        description="Write the student edition of each notebook: solution cells removed, stubs "
                    "and checks kept, outputs cleared, everything else unchanged.")
    release.add_argument("paths", nargs="+", metavar="PATH",
                         help="notebooks, or directories standing for their *.ipynb files")
    release.add_argument("--out", "-o", required=True, metavar="DIR",
                         help="directory to write the student notebooks to (same file names)")
    release.set_defaults(handler=_run_release)

    doctor = commands.add_parser(
        "doctor", help="report Python, NumPy, PyTorch, CUDA and which seqlearn is in use",
        description="Report the versions in use and whether 'seqlearn' is this course's package "
                    "(exit status 1 when it is the unrelated PyPI package).")
    doctor.add_argument("--grading", action="store_true",
                        help="also grade a small honest and a small hostile submission in the "
                             "grading sandbox and report what held")
    doctor.set_defaults(handler=_run_doctor)

    gradescope = commands.add_parser(
        "gradescope", help="write a Gradescope autograder zip for chapters",
        description="Write the zip of a Gradescope autograder (setup.sh, run_autograder, the "
                    "course's package and the chapters' student editions).")
    from .grading import gradescope as gradescope_module

    gradescope_module.add_arguments(gradescope)
    gradescope.set_defaults(handler=gradescope_module.run_command)

    grade = commands.add_parser(
        "grade", help="grade submitted notebooks into a gradebook",
        description="Run the checks of submitted notebooks and write a gradebook.")
    if with_grading:
        grading = importlib.import_module(GRADING_MODULE)
        grading.add_arguments(grade)
        grade.set_defaults(handler=grading.run)
    return parser


def main(argv=None):
    """Run the command given by ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Import the grading module only when the grade command is asked for.
    wants_grading = bool(argv) and argv[0] == "grade"
    parser = build_parser(with_grading=wants_grading)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help or a usage error: argparse has printed why
        return stop.code if isinstance(stop.code, int) else 2
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["GRADING_MODULE", "build_parser", "main"]
