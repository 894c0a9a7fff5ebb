"""Every combination a clinic meets: piriformis × radicular level × irritability × each single
condition × three equipment sets. Each must give a sound program; when one cannot, the library
is what grows, not the rule."""

from __future__ import annotations

import itertools

import pytest

from hepplan.planner import plan_program

from .conftest import make_profile
from .safety import CONDITIONS, EQUIPMENT, assert_program_is_safe

PIRIFORMIS = ["tight", "overstretched", "normal", "not_assessed"]
RADICULAR = ["none", "L4", "L5", "S1"]
IRRITABILITY = ["high", "moderate", "low"]
EQUIPMENT_SETS = {"none": [], "band only": ["resistance_band"], "everything": EQUIPMENT}


@pytest.mark.parametrize("condition", [None, *CONDITIONS])
def test_every_combination_gives_a_sound_program(library, condition):
    count = 0
    for piriformis, radicular, irritability, (_kit, equipment) in itertools.product(
        PIRIFORMIS, RADICULAR, IRRITABILITY, EQUIPMENT_SETS.items()
    ):
        assessment = {
            "piriformis": piriformis,
            "radicular_level": radicular,
            "irritability": irritability,
            "equipment": equipment,
            "conditions": [condition] if condition else [],
        }
        decision = plan_program(make_profile(assessment=assessment), library)
        assert decision.prescribed
        full = {**make_profile().assessment.model_dump(mode="json"), **assessment}
        assert_program_is_safe(full, {}, decision)
        count += 1
    assert count == 4 * 4 * 3 * 3
