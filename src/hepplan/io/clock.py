"""The one place hepplan reads the calendar.

Screening, planning and rendering never call it: the commands read today's date here once and
pass it in, so a run that crosses midnight uses one date throughout, and tests fix the date by
replacing this one function.
"""

from __future__ import annotations

import datetime as dt


def today() -> dt.date:
    """Today's date on this machine's clock."""
    return dt.date.today()
