"""``hepplan batch``: every profile of a folder to its document, incremental, parallel and
crash-safe. Imports the layer below (``domain``, ``words``, ``io``), ``render``'s renderers and
``deliver``'s sender only through the worker's result, and ``errors``.
"""
