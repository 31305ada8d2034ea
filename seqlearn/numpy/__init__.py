"""NumPy reference implementations: forward and hand-derived backward passes, float64.

One module per model family; ``seqlearn.torch`` mirrors them module for module.
"""
