"""``seqlearn grade``: bulk grading of student notebooks that student code cannot game.

Each exercise cell runs in its own sandboxed worker process (:mod:`.sandbox`); the course's
check runs in the grading process (:mod:`.grader`) and only its report counts. Entry points
for the command line are in :mod:`.cli`.
"""



def __getattr__(name):  # lazy, so that ``python -m seqlearn.grading.sandbox`` imports only itself
    if name in __all__:
        from . import grader

        return getattr(grader, name)
    raise AttributeError(name)


__all__ = ["grade_all", "grade_submission", "write_outputs"]
