"""Pure values and decisions: vocabularies, red flags, the profile, exercise and clinic models,
screening, the rule table, the planner, follow-up progress and the decision.

Nothing here reads a file, a clock or the network: ``today`` is passed in. Imports only
``hepplan.errors``, the rest of this package, and ``hepplan.io.problems`` (error wording).
"""
