"""Documents from a finished decision: the patient's handout and redirect, the clinician record,
the exercise pictures. Renderers take values and return bytes; they never look anything up.
Imports the layer below (``domain``, ``words``, ``io``) and ``errors``.
"""
