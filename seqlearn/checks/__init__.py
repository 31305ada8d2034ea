"""Exercise checks: run the student's function and the reference on fresh random inputs and
report, case by case, what matches, what does not and by how much, with a score.

Each chapter has a module here (``seqlearn.checks.perceptron``, ...) whose ``check_*`` functions
the notebooks call; ``CHECKS`` maps every exercise id of the course to its check.
"""

from .core import CHECKS, CheckReport, register, run_check

__all__ = ["CHECKS", "CheckReport", "register", "run_check"]
