"""PyTorch versions of the course's models, mirroring ``seqlearn.numpy`` module for module.

Same parameter names and layouts as the NumPy reference; each module runs on a GPU when
``seqlearn.device()`` finds one.
"""
