"""The PDFs as a reader sees them: extracted text, metadata, and byte-for-byte determinism."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pypdf
import pytest

from hepplan.domain.clinic import Clinic
from hepplan.domain.planner import plan_program
from hepplan.domain.redflags import BY_KEY
from hepplan.render.pdf import render_handout, render_redirect

from .conftest import make_profile


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def handout(library, clinic=None, **sections):
    clinic = clinic or Clinic()
    profile = make_profile(**sections)
    decision = plan_program(profile, library)
    return profile, decision, render_handout(profile, decision, clinic)


def test_handout_shows_the_patient_program(library):
    _profile, decision, data = handout(
        library,
        patient={"id": "P-9", "name": "Zoë Łukasz-Ñúñez"},
        assessment={"piriformis": "tight", "side": "right"},
    )
    text = flat(pdf_text(data))
    assert "Your home exercise program" in text
    assert "For Zoë Łukasz-Ñúñez Date" in text
    assert "Get help right away if you notice any of these" in text
    assert "Go to the emergency department now, or call 911." in text
    assert "How much pain is OK?" in text
    for phase in decision.phases:
        assert f"Step {phase.number} of 3: {phase.name}" in text
        for item in phase.exercises:
            assert item.name in text
            assert item.why in text
    assert "Your right leg." in text
    assert "For the clinician" in text
    assert f"content {decision.content_version}" in text
    assert decision.library_version not in text  # only the content this program uses
    assert "page 1 of" in text


def test_the_side_is_filled_into_the_steps(library):
    _, _decision, data = handout(
        library, assessment={"piriformis": "overstretched", "side": "right"}
    )
    text = flat(pdf_text(data))
    assert "{{" not in text
    assert "Lie on your left side" in text  # clamshell: lie on the other side


def test_markup_in_names_and_notes_prints_literally(library):
    _, _, data = handout(
        library,
        patient={"id": "P-1", "name": "<b>Ann & Bo</b>"},
        plan={"notes": "Walk <i>daily</i> & rest"},
    )
    text = flat(pdf_text(data))
    assert "For <b>Ann & Bo</b> Date" in text
    assert "Walk <i>daily</i> & rest" in text


def test_same_input_same_bytes(library):
    first = handout(library)[2]
    second = handout(library)[2]
    assert first == second


def test_metadata_has_no_patient_details(library):
    clinic = Clinic(name="Riverside PT", phone="555 0100")
    _, _, data = handout(library, clinic, patient={"id": "P-1", "name": "Alex Rivera"})
    meta = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert meta.title == "Home exercise program"
    assert meta.author == "Riverside PT"
    assert "Alex" not in repr(dict(meta))


def test_without_a_clinic_file_no_clinic_line_is_invented(library):
    text = flat(pdf_text(handout(library)[2]))
    assert "call the clinic" not in text
    with_clinic = flat(pdf_text(handout(library, Clinic(phone="555 0100"))[2]))
    assert "For other worries, call the clinic: 555 0100" in with_clinic


def test_a_routine_flag_adds_a_doctor_check(library):
    _, decision, data = handout(library, red_flags={"unrelenting_night_pain": "yes"})
    assert decision.disposition.word == "routine"
    assert "Please book a routine visit with your doctor" in flat(pdf_text(data))


@pytest.mark.parametrize(
    ("flags", "action", "absent"),
    [
        ({"saddle_anesthesia": "yes"}, "Go to the emergency department now.", "within 24 hours"),
        ({"cancer_history": "yes"}, "See a doctor within 24 hours.", "Emergency number: 911 "),
    ],
)
def test_redirect_document(library, flags, action, absent):
    profile = make_profile(red_flags=flags, patient={"id": "P-2", "name": "Sam O'Brien"})
    decision = plan_program(profile, library)
    text = flat(pdf_text(render_redirect(profile, decision, Clinic(emergency_number="112"))))
    assert action in text
    assert "112" in text
    assert "For: Sam O'Brien" in text
    assert "What to bring and say" in text
    assert "For the receiving doctor" in text
    for key in decision.triggered:  # the doctor reads the question, not its key
        assert f"{BY_KEY[key].question}: yes" in text
        assert key not in text
    assert "RF-" not in text
    for exercise in library:
        assert exercise.name not in text
    assert "Step 1" not in text
    assert "Your log" not in text


def test_a_refused_decision_cannot_become_a_handout(library):
    profile = make_profile(red_flags={"major_trauma": "yes"})
    decision = plan_program(profile, library)
    with pytest.raises(ValueError):
        render_handout(profile, decision, Clinic())


# --- what every handout holds ------------------------------------------------------------------

SECTIONS = [
    "Your home exercise program",
    "Get help right away if you notice any of these",
    "What we found",
    "How much pain is OK?",
    "Your program at a glance",
    "Step 1 of 3: Calm things down",
    "Step 2 of 3: Build strength",
    "Step 3 of 3: Back to full activity",
    "Move on to Step 2 when:",
    "Move on to Step 3 when:",
    "You are doing well when:",
    "Your log for Step 1: tick a box each day you do your exercises",
    "Your log for Step 3: tick a box each day you do your exercises",
    "For the clinician",
    "Decision trace",
]


@pytest.mark.parametrize("large_print", [False, True])
def test_every_section_exercise_dose_and_side_is_printed(library, large_print):
    from hepplan.words import text as words

    profile = make_profile(
        assessment={"piriformis": "tight", "side": "left", "radicular_level": "S1"},
        plan={"notes": "Walk after lunch."},
    )
    decision = plan_program(profile, library)
    data = render_handout(profile, decision, Clinic(), large_print=large_print)
    content = flat(pdf_text(data))
    for section in SECTIONS:
        assert section in content, section
    assert "A note from your physical therapist Walk after lunch." in content
    for phase in decision.phases:
        for item in (*phase.exercises, phase.aerobic):
            assert item.name in content
            assert words.dose_words(item).capitalize() + "." in content
    assert "Your left leg." in content
    assert "Your right leg." not in content


def test_what_we_found_differs_by_finding(library):
    def found(**assessment):
        text = flat(pdf_text(handout(library, assessment=assessment)[2]))
        return text[text.index("What we found") : text.index("How much pain is OK?")]

    tight = found(piriformis="tight")
    over = found(piriformis="overstretched")
    nerve = found(piriformis="normal", radicular_level="L5")
    mixed = found(piriformis="tight", radicular_level="S1")
    assert "Yours is tight" in tight and "stretching" in tight
    assert "already long and strained" in over and "stronger instead" in over
    assert "nerve root in your lower back (L5)" in nerve
    assert "Yours is tight" in mixed and "(S1)" in mixed
    assert len({tight, over, nerve, mixed}) == 4


def font_sizes(data: bytes, needle: str) -> set[float]:
    sizes: set[float] = set()

    def visit(text, cm, tm, font, size):
        if needle in text:
            sizes.add(round(size * tm[0] * cm[0], 1))

    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


@pytest.mark.parametrize(("large_print", "minimum"), [(False, 11), (True, 16)])
def test_body_text_size(library, large_print, minimum):
    profile = make_profile(assessment={"piriformis": "tight"})
    decision = plan_program(profile, library)
    data = render_handout(profile, decision, Clinic(), large_print=large_print)
    sizes = font_sizes(data, "You should feel")
    assert sizes and min(sizes) >= minimum


def test_names_in_many_scripts_print_and_unknown_characters_do_not_crash(library):
    name = "Zoë Łukasz-Ñúñez Ελένη Дмитрий 山田 🙂"
    text = flat(pdf_text(handout(library, patient={"id": "P-3", "name": name})[2]))
    assert "Zoë Łukasz-Ñúñez Ελένη Дмитрий" in text


def test_fonts_are_embedded(library):
    reader = pypdf.PdfReader(io.BytesIO(handout(library)[2]))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]


def test_a4_and_letter(library):
    for size, width in (("a4", 595), ("letter", 612)):
        data = handout(library, Clinic(page_size=size))[2]
        box = pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox
        assert round(float(box.width)) == width


def test_clinic_logo_and_details(library, tmp_path):
    from PIL import Image

    from hepplan.io.clinic import load_clinic

    Image.new("RGB", (120, 40), "navy").save(tmp_path / "logo.png")
    (tmp_path / "clinic.yaml").write_text(
        "name: Riverside PT\nphone: '555 0100'\nlogo: logo.png\nemergency_number: '112'\n"
    )
    clinic = load_clinic(tmp_path / "clinic.yaml")
    data = handout(library, clinic)[2]
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert list(reader.pages[0].images)
    text = flat(pdf_text(data))
    assert "Riverside PT" in text
    assert "Go to the emergency department now, or call 112." in text


def test_an_unreadable_logo_is_an_input_error(tmp_path):
    from hepplan.errors import InputError
    from hepplan.io.clinic import load_clinic

    (tmp_path / "logo.png").write_text("not an image")
    (tmp_path / "clinic.yaml").write_text("logo: logo.png\n")
    with pytest.raises(InputError) as info:
        load_clinic(tmp_path / "clinic.yaml")
    assert info.value.problems == [
        f"{tmp_path / 'clinic.yaml'}: logo: 'logo.png' is not an image that can be read "
        "(use PNG or JPEG)"
    ]


@pytest.mark.skipif(
    shutil.which("qpdf") is None and not os.environ.get("CI"),
    reason="qpdf is not installed (CI installs it)",
)
@pytest.mark.parametrize("flags", [{}, {"saddle_anesthesia": "yes"}, {"cancer_history": "yes"}])
def test_qpdf_check_passes(library, tmp_path, flags):
    profile = make_profile(red_flags=flags)
    decision = plan_program(profile, library)
    render = render_handout if decision.prescribed else render_redirect
    path = tmp_path / "out.pdf"
    path.write_bytes(render(profile, decision, Clinic()))
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout
