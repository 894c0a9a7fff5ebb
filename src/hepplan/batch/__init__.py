"""``hepplan batch``: every profile of a folder to its document, incremental, parallel and
crash-safe. ``run`` coordinates; ``digests`` decide what is rebuilt; ``manifest`` keeps the
state folder (lock, manifest, sent-mail journal); ``executors`` run the per-profile step here,
in local processes or on Dask; ``report`` counts and reports. Imports the layer below
(``domain``, ``words``, ``io``), ``render``'s renderers and ``deliver``'s sender only through
the worker's result, and ``errors``.
"""
