"""Patient-facing words: the one sandboxed template environment, the side wording, doses in
words. Imports ``hepplan.domain``, ``hepplan.io`` and ``hepplan.errors``.
"""
