"""Vital-signs prompts during an infusion, and the reaction guidance content."""

import pytest

from nurse_app.core.monitoring import InfusionState, load_monitoring, vitals_due
from nurse_app.core.reactions import load_reactions

RULES = load_monitoring()


@pytest.mark.parametrize(
    "state, expected",
    [
        (InfusionState(None, (), ()), "Baseline vital signs are due before the infusion starts."),
        (InfusionState(None, (-3,), ()), None),
        (InfusionState(5, (), ()), "No baseline vital signs were recorded before the start: take a set now."),
        (InfusionState(16, (-5,), ()), "Vital signs are due 15 min after the start."),
        (InfusionState(16, (-5, 14), ()), None),
        (
            InfusionState(27, (-5, 15), (), next_increase_at_min=30),
            "Take vital signs before the next rate increase.",
        ),
        (InfusionState(27, (-5, 15, 26), (), next_increase_at_min=30), None),
        (
            InfusionState(200, (-5, 15, 26, 130), (30,), at_max_since_min=130),
            "Vital signs are due every 60 min at the maximum rate.",
        ),
        (InfusionState(180, (-5, 15, 26, 130), (30,), at_max_since_min=130), None),
        (
            InfusionState(200, (-5, 15, 26, 130), (30,), ended_at_min=199),
            "Vital signs are due at the end of the infusion.",
        ),
        (
            InfusionState(231, (-5, 15, 26, 130, 199), (30,), ended_at_min=199),
            "Vital signs are due 30 to 60 min after the end of the infusion.",
        ),
        (InfusionState(250, (-5, 15, 26, 130, 199, 240), (30,), ended_at_min=199), None),
    ],
)
def test_vitals_due(state, expected):
    assert vitals_due(state, RULES) == expected


def test_monitoring_marked_unverified():
    assert RULES.verified is False and "UNVERIFIED" in RULES.note


def test_reaction_guidance():
    guide = load_reactions()
    assert set(guide.severities) == {"mild", "moderate", "severe"}
    assert guide.severities["severe"].call_emergency and guide.severities["severe"].stop_infusion
    assert not guide.severities["mild"].stop_infusion
    assert "delayed-eczema" in guide.kinds and "8 to 10 days" in guide.kinds["delayed-eczema"].signs
    assert guide.grading_verified is False
