"""Reading and writing: safe YAML and JSON, the profile, library and clinic loaders, bounded
reads of regular files only, atomic private writes, the packaged resources and today's date.

Imports ``hepplan.errors`` and the models of ``hepplan.domain``.
"""
