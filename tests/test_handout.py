"""The handout and the redirect as a patient holds them (CLINICAL.md §1 and §3): what each page
says, in which order, at which size, and what never reaches a patient's page."""

from __future__ import annotations

import io
import re
import statistics
from pathlib import Path

import pypdf
import pytest
from reportlab.lib.units import mm

from hepplan import app
from hepplan.domain.clinic import Clinic
from hepplan.domain.planner import plan_program
from hepplan.io.clinic import load_clinic
from hepplan.io.library import load_library
from hepplan.render.pdf import render_handout, render_redirect
from hepplan.words.catalog import words

from .conftest import drawn, make_profile
from .safety import CONDITIONS, EQUIPMENT
from .test_coverage import coverage_assessment, coverage_profile

EXAMPLES = Path(__file__).parent.parent / "examples"
PRESCRIBED = sorted(
    p.stem
    for p in (EXAMPLES / "profiles").glob("*.yaml")
    if p.stem not in ("cauda-equina-emergency", "screening-incomplete")
)
CLINIC = load_clinic(EXAMPLES / "clinic.yaml")


def pages(data: bytes) -> list[str]:
    return [
        re.sub(r"\s+", " ", page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(data)).pages
    ]


def example(name: str, *, large_print: bool = False, clinic: Clinic = CLINIC):
    outcome = app.decide(EXAMPLES / "profiles" / f"{name}.yaml")
    data = render_handout(outcome.profile, outcome.decision, clinic, large_print=large_print)
    return outcome, data


def font_sizes(data: bytes) -> list[tuple[float, str]]:
    """Every piece of text drawn, with the size it is drawn at."""
    return [
        (round(size, 1), text)
        for page in pypdf.PdfReader(io.BytesIO(data)).pages
        for text, _, size in drawn(page)[1]
    ]


# --- nothing of the chart reaches the patient -----------------------------------------------


@pytest.mark.parametrize("large_print", [False, True])
@pytest.mark.parametrize("name", PRESCRIBED)
def test_no_rule_id_key_or_digest_on_a_patients_page(name, large_print):
    _, data = example(name, large_print=large_print)
    text = " ".join(pages(data))
    assert not re.search(r"\b[A-Z]{2,}(-[A-Z0-9]+)+\b", text), "a rule id"
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), "a key in snake_case"
    assert not re.search(r"\b[0-9a-f]{12,}\b", text), "a digest"
    for word in ("disposition", "trace", "content", "library", "AMBER"):
        assert word not in text, word


# --- page one, in the order of CLINICAL §3 ----------------------------------------------------


def test_page_one_holds_the_main_message_first_then_safety_found_pain_and_the_plan():
    _, data = example("tight-piriformis")
    first = pages(data)[0]
    order = [
        "Your home exercise plan",
        "For Jordan Avery",
        "Do each exercise as often as the bold line under its name says. "
        "Most people feel better in 6 to 12 weeks. "
        "No one can say just how fast you will heal. Good days and bad days are both normal.",
        "Get help right away for any of these",
        "Go to the emergency department now, or call 911. "
        "Do not drive yourself: your legs may give way.",
        "For other worries, call the clinic: (555) 010-2040",
        "What we found",
        "What you need",  # beside what we found
        "How much pain is OK?",
        "Your plan at a glance",
    ]
    at = [first.find(part) for part in order]
    assert -1 not in at, [p for p, i in zip(order, at, strict=True) if i < 0]
    assert at == sorted(at)


def heights(data: bytes, page: int = 0) -> dict[str, float]:
    """How high on the page each piece of text is drawn (the first time it is drawn)."""
    found: dict[str, float] = {}
    for text, y, _ in drawn(pypdf.PdfReader(io.BytesIO(data)).pages[page])[1]:
        found.setdefault(text, round(y, 1))
    return found


@pytest.mark.parametrize("name", ["Jordan Avery", "Maximiliana Oyelaran-Fairweather"])
def test_page_one_sets_who_when_and_the_side_two_to_a_row(library, name):
    """A name that fits half the width shares its row with the date, and the therapist shares
    the next row with the painful side; a longer name has a row of its own."""
    profile = make_profile(patient={"name": name}, assessment={"side": "right"})
    data = render_handout(profile, plan_program(profile, library), CLINIC)
    at = heights(data)
    date = next(y for text, y in at.items() if re.fullmatch(r"\w+ \d+, \d{4}", text))
    rows = [at[name], date, at["Sam Lee, DPT"], at["right"]]
    if name == "Jordan Avery":
        assert rows[0] == rows[1] > rows[2] == rows[3]
    else:
        assert rows[0] > rows[1] == rows[2] > rows[3]


@pytest.mark.parametrize(
    ("page_size", "date"), [("letter", "November 18, 2026"), ("a4", "18 November 2026")]
)
def test_dates_are_in_words_as_the_clinic_writes_them(page_size, date):
    _, data = example("tight-piriformis", clinic=Clinic(page_size=page_size))
    text = pages(data)
    assert f"Date {date}" in text[0]
    assert all(date in page for page in text)  # the footer of every page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", " ".join(text))


def test_without_a_clinic_phone_there_is_a_line_to_write_it_on():
    _, data = example("tight-piriformis", clinic=Clinic())
    first = pages(data)[0]
    assert "For other worries, call the clinic. Write its number here:" in first


def test_the_pain_traffic_light_uses_the_clinics_bands():
    _, data = example(
        "tight-piriformis", clinic=Clinic(pain_bands={"green_max": 1, "amber_max": 4})
    )
    first = pages(data)[0]
    assert "GREEN: 0 to 1: this is fine." in first
    assert "YELLOW: 2 to 4: OK if it settles by the next morning. If not, call the clinic." in first
    assert "RED: Above 4, or pain or numbness spreading down your leg" in first


def test_what_we_found_names_the_conditions_and_mentions_weakness_only_when_graded(library):
    outcome, data = example("stenosis-older-adult")
    first = pages(data)[0]
    assert "(spinal stenosis)" in first
    assert "(arthritis)" in first
    graded = outcome.profile.assessment.glute_strength
    assert ("weaker than normal" in first) == any(
        g is not None and g <= 4 for g in (graded.medius, graded.maximus)
    )
    profile = make_profile(assessment={"glute_strength": {"medius": None, "maximus": None}})
    decision = plan_program(profile, library)
    first = pages(render_handout(profile, decision, Clinic()))[0]
    assert "weaker" not in first[first.index("What we found") : first.index("How much pain")]


@pytest.mark.parametrize(("conditions", "said"), [([], True), (["spondylolisthesis"], False)])
def test_what_we_found_names_the_backs_direction_only_with_an_exercise_that_moves_it(
    library, conditions, said
):
    """A back that feels better arched gets a printed exercise that arches it; where a condition
    withholds that exercise, page one does not promise it."""
    profile = make_profile(
        assessment={"directional_preference": "extension", "conditions": conditions}
    )
    decision = plan_program(profile, library)
    first = pages(render_handout(profile, decision, Clinic()))[0]
    sentence = (
        "Your back feels better when you arch it gently backward. "
        "So your plan has an exercise that does that."
    )
    assert (sentence in first) is said
    arches = [
        i for p in decision.phases for i in p.exercises if "lumbar_extension" in i.exercise.tags
    ]
    assert bool(arches) is said


def test_a_set_is_explained_once_where_a_dose_first_uses_the_word():
    _, data = example("overstretched-weak-glutes")
    text = " ".join(pages(data))
    explained = 'A "set" is a number of repeats in a row.'
    assert text.count(explained) == 1
    assert text.index(explained) < text.index(" sets of ", text.index(explained) - 400) + 400


@pytest.mark.parametrize(("age", "told"), [(71, True), (65, True), (64, False), (None, False)])
def test_a_patient_of_65_or_over_is_told_how_to_get_down_to_the_floor(library, age, told):
    """Under what you need, right after the mat, when a printed exercise is done on one."""
    profile = make_profile(patient={"age": age}, assessment={"piriformis": "overstretched"})
    decision = plan_program(profile, library)
    assert any("mat" in i.exercise.equipment for p in decision.phases for i in p.exercises)
    text = pages(render_handout(profile, decision, CLINIC))
    mat = "A mat or rug, or a folded blanket."
    floor = "Hold a sturdy chair to get down to the floor and up. Or use a firm bed."
    assert " ".join(text).count(floor) == (1 if told else 0)
    if told:
        assert f"{mat} • {floor}" in text[0]


# --- the steps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("large_print", [False, True])
@pytest.mark.parametrize("name", PRESCRIBED)
def test_each_step_starts_a_page_and_no_card_or_checklist_splits(name, large_print):
    outcome, data = example(name, large_print=large_print)
    text = pages(data)
    decision = outcome.decision
    shown = [p for p in decision.phases if not p.done]
    for phase in shown:
        title = f"Step {phase.number} of {len(decision.phases)}: {words().say(phase.name)}"
        starts = [n for n, page in enumerate(text) if title in page]
        assert len(starts) == 1 and text[starts[0]].startswith(title), title
    seen = set()
    for phase in shown:
        for item in (*phase.exercises, phase.aerobic):
            if item.id in seen:
                continue
            seen.add(item.id)
            stop = "Stop if: " + item.exercise.stop_if.split("{{")[0].split()[0]
            on = [n for n, page in enumerate(text) if f"{item.exercise.name} " in page]
            assert any(stop in text[n] and "Why: " in text[n] for n in on), item.id
    for n, page in enumerate(text):
        if "when all of these are true:" in page:
            assert re.search(r"Then call your therapist|keep doing this step", page), n


@pytest.mark.parametrize("name", PRESCRIBED)
def test_an_exercise_from_an_earlier_step_is_one_line_with_the_page_of_its_card(name):
    _, data = example(name)
    text = pages(data)
    full = " ".join(text)
    for match in re.finditer(r"• ([^•:]+): [^•]*?See the picture on page (\d+)\.", full):
        exercise, page = match.group(1).strip(), int(match.group(2))
        assert f"{exercise} " in text[page - 1], (exercise, page)  # its card is there


@pytest.mark.parametrize("name", PRESCRIBED)
def test_weeks_are_numbered_as_the_logs_number_them(name):
    outcome, data = example(name)
    full = " ".join(pages(data))
    for phase in (p for p in outcome.decision.phases if not p.done):
        start, end = phase.weeks
        if end == start + 2:
            assert f"Weeks {start + 1} and {end} · all the exercises take about" in full
        else:
            assert f"Weeks {start + 1} to {end} · all the exercises take about" in full
        log = full[full.index(f"Your log for step {phase.number}") :]
        weeks = [f"Week {n}" for n in range(start + 1, end + 1)]
        assert all(week in log for week in weeks)
        assert f"Week {end + 1} " not in log.split("Your log for step")[1]


@pytest.mark.parametrize("name", PRESCRIBED)
def test_new_weakness_is_sent_to_the_red_box_not_to_one_more_week(name):
    """A weaker leg is an emergency sign on page one; the move-on list must not make it one
    more week on the same step."""
    outcome, data = example(name)
    text = pages(data)
    assert "Your leg or foot gets weaker" in text[0]
    full = " ".join(text[1:])
    checklists = re.findall(r"Move on to step \d when all of these are true:.*?Then", full)
    phases = outcome.decision.phases
    assert len(checklists) == sum(not p.done and p.number < len(phases) for p in phases)
    for checklist in checklists:
        assert "You have no new numbness or tingling. New weakness: see the red box on page 1." in (
            checklist
        )
        assert "weakness." not in checklist.replace("New weakness", "")


@pytest.mark.parametrize("name", PRESCRIBED)
def test_each_cards_why_is_its_own(name):
    from hepplan.render.outline import handout_outline

    outcome, data = example(name)
    doc = handout_outline(outcome.profile, outcome.decision, CLINIC)
    whys = [card.why for step in doc.steps for card in step.cards]
    sentences = [s for why in whys for s in re.split(r"(?<=\.) ", why.removeprefix("Why: "))]
    assert len(sentences) == len(set(sentences)), sentences
    text = " ".join(pages(data))
    assert all(why in text for why in whys)
    assert not re.search(r"\b[LS][1-5]\b", text)  # "the irritated nerve", not its root level


def test_the_end_has_the_therapists_note_and_a_three_point_recap():
    _, data = example("tight-piriformis")
    last = pages(data)[-1]
    assert "A note from your therapist" in last
    recap = last[last.index("Remember") :]
    assert "1 Do each exercise as often as the bold line under its name says." in recap
    assert (
        "2 Pain up to 5 out of 10 is OK if it settles by the next morning. To move on to a new "
        "step, it must stay at 3 or less." in recap
    )
    assert "3 Call the clinic if the pain spreads or gets worse." in recap
    assert "Get help now for the signs in the red box on page 1." in recap


def test_a_side_to_side_count_says_what_one_count_is(library):
    from hepplan.words.text import dose_words

    profile = make_profile(assessment={"piriformis": "overstretched", "irritability": "low"})
    decision = plan_program(profile, library)
    said = {item.id: dose_words(item) for phase in decision.phases for item in phase.exercises}
    assert said["dead_bug"].startswith("2 sets of 10 on each side, ")
    assert said["bridge_march"].startswith("3 sets of 12 on each side, ")
    assert said["clamshell"].startswith("3 sets of 12, hold 3 seconds, ")  # one leg: no "each"
    text = " ".join(pages(example("follow-up-3")[1]))
    assert "Side steps with a band 2 sets of 10 each way, once a day" in text


# --- print sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(("large_print", "least", "body"), [(False, 9, 12), (True, 14, 18)])
def test_nothing_is_printed_under_the_least_size(large_print, least, body):
    _, data = example("l5-radiculopathy", large_print=large_print)
    sizes = font_sizes(data)
    small = sorted({(size, text) for size, text in sizes if size < least})
    assert not small, small[:5]
    steps = [size for size, text in sizes if text.startswith("You should feel")]
    assert steps and min(steps) >= body


# --- at a follow-up -----------------------------------------------------------------------------


def test_a_follow_up_starts_at_the_patients_step_and_says_how_they_are_doing():
    outcome, data = example("follow-up-2")
    assert outcome.decision.progress.decision == "advance"
    text = pages(data)
    assert "Your pain has come down from 6 to 4. Well done." in text[0]
    assert "You are ready for step 2." in text[0]
    glance = text[0][text[0].index("Your plan at a glance") :]
    assert re.search(r"1\. Calm things down Done 2\. Build strength", glance)
    assert "Step 1 of 3" not in " ".join(text)
    assert text[1].startswith("Step 2 of 3: Build strength Weeks 1 to")


def test_a_hold_says_why_in_one_plain_sentence():
    outcome, data = example("follow-up-3")
    assert outcome.decision.progress.decision == "hold"
    first = pages(data)[0]
    assert "So we will stay on step 2 a little longer." in first


# --- the redirect -------------------------------------------------------------------------------


@pytest.mark.parametrize("large_print", [False, True])
@pytest.mark.parametrize(
    ("flags", "action"),
    [
        ({"saddle_anesthesia": "yes"}, "Go to the emergency department now."),
        ({"cancer_history": "yes", "unexplained_weight_loss": "unsure"}, "See a doctor within"),
    ],
)
def test_the_redirect_says_what_why_and_the_recap_on_page_one(flags, action, large_print):
    profile = make_profile(red_flags=flags)
    decision = plan_program(profile, None)
    data = render_redirect(profile, decision, CLINIC, large_print=large_print)
    text = pages(data)
    assert len(text) <= (3 if large_print else 2)
    first, whole = text[0], " ".join(text)
    for part in (  # what to do, why, and the recap: on page one
        action,
        "Why this is urgent",
        "Your therapist found signs that a doctor must check first:",
        "Remember",
        "Bring this sheet and your medicines, so the doctor knows what we found.",
        "Do no exercises until a doctor has seen you: they could make things worse.",
    ):
        assert part in first, part
    for part in ("What to bring and say", "write when each sign started:", "And the medicines"):
        assert part in whole, part
    assert whole.index("And the medicines") < whole.index("For the receiving doctor")
    assert "Give this part to the hospital staff. You do not need to read it." in whole
    if "unexplained_weight_loss" in flags:
        assert "You may have lost weight without knowing why." in first
    sizes = font_sizes(data)
    assert min(size for size, _ in sizes) >= (14 if large_print else 9)


def test_each_language_a_profile_may_ask_for_has_a_catalog():
    from hepplan.domain.profile import LANGUAGES
    from hepplan.words.catalog import languages

    assert set(LANGUAGES) == set(languages())


def test_every_rule_reason_and_step_text_is_in_the_catalog():
    """Rules carry message keys, not English: each key names a block the catalog has."""
    from hepplan.domain import rules
    from hepplan.words.catalog import words

    keys = [rules.INCLUDE_WHY, rules.AEROBIC_WHY]
    keys += [need.why for need in rules.NEEDS] + [n.fallback_why for n in rules.NEEDS]
    keys += [t.why for t in rules.TOGETHER] + [p.carries for p in rules.AEROBIC_PREFER]
    keys += [k for shape in rules.PHASES for k in (shape.name, shape.goal, shape.progress_when)]
    keys += [rules.MAINTAIN.name, rules.MAINTAIN.goal, rules.MAINTAIN.progress_when]
    for key in filter(None, keys):
        assert key.startswith("rules."), key
        assert words().has(key), key
        assert words().say(key)


# --- page budgets (CLINICAL §3) -----------------------------------------------------------------

#: A fixed sample of the coverage grid (tests/test_coverage.py): every condition, each radicular
#: level and irritability, no equipment or all of it, with and without an age of 65 or over.
COVERAGE_SAMPLE = [
    (condition, piriformis, radicular, irritability, kit, age)
    for n, condition in enumerate([None, *CONDITIONS])
    for piriformis, radicular, irritability, kit, age in (
        ("tight", ["none", "L4", "L5", "S1"][n % 4], "low", EQUIPMENT, 71),
        ("overstretched", ["S1", "L5", "L4", "none"][n % 4], "moderate", [], None),
        (["normal", "not_assessed"][n % 2], ["L5", "none"][n % 2], "high", EQUIPMENT, None),
    )
]


def coverage_handout(case, large_print: bool) -> bytes:
    *findings, age = case
    profile = coverage_profile(coverage_assessment(*findings), age)
    decision = plan_program(profile, load_library())
    return render_handout(profile, decision, Clinic(), large_print=large_print)


def page_fill(data: bytes) -> list[tuple[str, float]]:
    """Each page's first words and how much of its height is used: from the top of the frame
    to the lowest line of text above the footer."""
    found = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        height = float(page.mediabox.height)
        text, pieces = drawn(page)
        lows = [y for _, y, _ in pieces if y > 20 * mm]  # above the footer's line
        top, bottom = height - 9 * mm - 6, 13 * mm + 6
        used = (top - min(lows, default=top)) / (top - bottom)
        found.append((re.sub(r"\s+", " ", text), used))
    return found


def layout_problems(data: bytes) -> list[str]:
    """The rules of CLINICAL §3 a page breaks: page one spilling over, or a page more than
    half empty that is not the last of a step."""
    pages = page_fill(data)
    problems, in_step = [], False
    for n, (text, used) in enumerate(pages):
        in_step = in_step or text.startswith("Step")
        follows = pages[n + 1][0] if n + 1 < len(pages) else "Step"
        if used < 0.5 and not (in_step and follows.startswith("Step")):
            problems.append(f"page {n + 1} is {used:.0%} full: {text[:40]}")
    return problems


@pytest.mark.parametrize("name", PRESCRIBED)
def test_shipped_handouts_keep_the_page_rules(name):
    """Normal print: at most 8 pages, page one on one page, and no page more than half empty
    except a step's last. Large print: no page more than half empty except a step's last."""
    _, data = example(name)
    assert len(pages(data)) <= 8
    assert pages(data)[1].startswith(("Step 1 of", "Step 2 of", "Step 3 of"))
    assert layout_problems(data) == []
    _, data = example(name, large_print=True)
    assert layout_problems(data) == []


@pytest.mark.parametrize("case", COVERAGE_SAMPLE, ids=lambda c: "-".join(map(str, c[:4])))
def test_coverage_handouts_keep_the_page_rules(case):
    data = coverage_handout(case, large_print=False)
    assert len(pages(data)) <= 8
    assert pages(data)[1].startswith("Step 1 of")
    assert layout_problems(data) == []
    assert layout_problems(coverage_handout(case, large_print=True)) == []


@pytest.mark.parametrize("irritability", ["high", "moderate", "low"])
def test_page_one_holds_the_plan_at_a_glance_at_its_fullest(irritability):
    """Hip advice, a nerve, every piece of equipment and the floor line for a patient of 71:
    normal print still ends page one with the plan at a glance."""
    case = ("gtps", "overstretched", "L5", irritability, EQUIPMENT, 71)
    text = pages(coverage_handout(case, large_print=False))
    assert "Your plan at a glance" in text[0]
    assert "Hold a sturdy chair to get down to the floor and up." in text[0]
    assert text[1].startswith("Step 1 of 3")


def test_page_counts_do_not_grow():
    """A guard on what CLINICAL §3's budgets still ask for: a median of 6 normal-print pages and
    14 in large print are not reached yet (see the README's layout notes); no change may make
    the handouts longer than they are today."""
    normal = [len(pages(example(name)[1])) for name in PRESCRIBED]
    large = [len(pages(example(name, large_print=True)[1])) for name in PRESCRIBED]
    assert statistics.median(normal) <= 7 and max(normal) <= 7, normal
    assert max(large) <= 15, large


def _follow_up_handout(library, follow_up: dict, outcomes=None):
    from .conftest import profile_data

    well = {"step_reached": 2, "weeks_on_step": 3, "days_done_percent": 90, "pain_during": 2}
    well |= {"next_morning": "usual", "new_nerve_signs": "no"}
    data = profile_data()
    data["follow_up"] = {**well, **follow_up}
    if outcomes:
        data["outcomes"] = outcomes
    from hepplan.domain.profile import parse_profile

    profile = parse_profile(data, "visit.yaml")
    decision = plan_program(profile, library)
    return decision, pages(render_handout(profile, decision, Clinic()))


def test_a_step_back_is_said_kindly_and_without_blame(library):
    decision, text = _follow_up_handout(library, {"new_nerve_signs": "yes"})
    assert decision.progress.decision == "regress" and decision.start_step == 1
    assert (
        "Your body needs a gentler start for now. This is common, and it is nobody's fault. "
        "We will go back to step 1." in text[0]
    )
    assert text[1].startswith("Step 1 of 3")


def test_the_keep_it_up_program_follows_step_3(library):
    visits = [
        {"date": "2026-09-01", "nprs": 7},
        {"date": "2026-11-20", "nprs": 2},
    ]
    decision, text = _follow_up_handout(library, {"step_reached": 3}, visits)
    assert decision.progress.decision == "maintain"
    assert "Your pain has come down from 7 to 2. Well done." in text[0]
    assert "You have finished all the steps. Now keep your gains with a shorter plan." in text[0]
    glance = (
        text[0][text[0].index("Your plan at a glance") :]
        if "Your plan at a glance" in text[0]
        else text[1]
    )
    assert "Done" in glance
    assert any(page.startswith("Step 3 of 3: Keep it up") for page in text)
    assert "To move on to a new step" not in " ".join(text)  # there is no step after it
