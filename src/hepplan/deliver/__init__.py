"""Sending a finished handout by e-mail: settings, the message, the SMTP sender with its deadline
and retries, and the .eml writer. Imports the layer below (``domain``, ``words``, ``io``) and
``errors``.
"""
