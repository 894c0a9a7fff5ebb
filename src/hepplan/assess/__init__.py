"""Checking what goes in before it is used: the assessment interview that writes a profile, the
profile's JSON Schema, and ``library check``. Imports the layer below and ``errors``.
"""
