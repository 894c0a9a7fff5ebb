"""How long a handout takes, against reportlab building a plain story of the same size.

    python benchmarks/bench_handout.py [-n 40]

Prints, for the example profiles:
- hepplan's time per handout (plan + outline + story + PDF), in process;
- reportlab's time to build a story with the same paragraphs of text (same font, no tables,
  lists or drawings) — the floor any handout of this size stands on;
- their ratio (budget: at most 2.0);
- the clinician record, which every `plan` and `batch` now writes beside the handout: the
  handout plus its record against the handout alone (budget: at most 1.2);
- the whole process for one `hepplan plan` (budget: under 0.5 s) and `hepplan --help`
  (budget: under 0.2 s), as the median of a few runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reportlab.platypus import Flowable, Paragraph

from hepplan.domain.clinic import Clinic
from hepplan.domain.planner import plan_program
from hepplan.io.library import load_library
from hepplan.io.profiles import load_profile
from hepplan.render.handout import handout_story
from hepplan.render.kit import build_pdf, styles
from hepplan.render.outline import handout_outline
from hepplan.render.record import chart_record

REPO = Path(__file__).resolve().parent.parent
PROFILES = [
    REPO / "examples" / "profiles" / name
    for name in (
        "tight-piriformis.yaml",
        "overstretched-weak-glutes.yaml",
        "l5-radiculopathy.yaml",
        "stenosis-older-adult.yaml",
    )
]


def paragraphs(flowables) -> list[str]:
    """The text of every paragraph in a story, however deeply nested in tables and lists."""
    found: list[str] = []
    for item in flowables:
        if isinstance(item, Paragraph):
            found.append(item.text)
        elif isinstance(item, (list, tuple)):
            found += paragraphs(item)
        elif isinstance(item, Flowable):
            for attr in ("_content", "_flowables", "_cellvalues", "words"):
                inner = getattr(item, attr, None)
                if inner:
                    found += paragraphs(inner)
            if hasattr(item, "_list"):
                found += paragraphs(item._list)
    return found


def best_of(runs: int, call) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def process_time(args: list[str], runs: int = 9) -> tuple[float, float]:
    """Best and median wall time of a whole process (the best is the least disturbed run)."""
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "hepplan", *args],
                cwd=folder,
                capture_output=True,
                check=False,
            )
            times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="handouts per profile")
    args = parser.parse_args()
    library = load_library()
    clinic = Clinic(name="Benchmark Clinic", phone="555 0100")
    ours_total = bare_total = record_total = 0.0
    pages = 0
    s = styles(False)

    def footer(number, total):
        return "", f"{number} / {total}"

    for path in PROFILES:
        profile = load_profile(path)

        def ours(profile=profile):
            decision = plan_program(profile, library)
            story = handout_story(handout_outline(profile, decision, clinic), clinic, s)
            return build_pdf(story, clinic, "Home exercise program", footer, s)

        decision = plan_program(profile, library)
        texts = paragraphs(handout_story(handout_outline(profile, decision, clinic), clinic, s))

        def bare(texts=texts):
            story = [Paragraph(text, s.body) for text in texts]
            return build_pdf(story, clinic, "bare", footer, s)

        def chart(profile=profile, decision=decision):
            return chart_record(profile, decision, clinic)

        ours()  # warm caches: fonts, templates
        chart()
        ours_time = best_of(args.n, ours)
        bare_time = best_of(args.n, bare)
        record_time = best_of(args.n, chart)
        ours_total += ours_time
        bare_total += bare_time
        record_total += record_time
        pages += ours().count(b"/Type /Page\n")
        print(
            f"{path.name:<34} hepplan {ours_time * 1000:7.1f} ms   reportlab story "
            f"{bare_time * 1000:7.1f} ms   ratio {ours_time / bare_time:4.2f}   "
            f"({len(texts)} paragraphs)   record {record_time * 1000:5.1f} ms"
        )
    ratio = ours_total / bare_total
    print(
        f"{'all':<34} hepplan {ours_total / len(PROFILES) * 1000:7.1f} ms per handout; "
        f"ratio {ratio:.2f} (budget ≤ 2.0) → {'OK' if ratio <= 2.0 else 'OVER BUDGET'}"
    )
    print(f"handouts per second, one core: {len(PROFILES) / ours_total:.1f}")
    pair = (ours_total + record_total) / ours_total
    print(
        f"handout + clinician record: {(ours_total + record_total) / len(PROFILES) * 1000:.1f} "
        f"ms, {pair:.2f}× the handout alone (budget ≤ 1.2) → "
        f"{'OK' if pair <= 1.2 else 'OVER BUDGET'}"
    )
    example = str(PROFILES[0])
    alone, alone_median = process_time(["plan", example, "-o", "bench.pdf", "--no-record"])
    whole, whole_median = process_time(["plan", example, "-o", "bench.pdf"])
    print(
        f"whole process, handout alone (--no-record): best {alone:.3f} s, "
        f"median {alone_median:.3f} s"
    )
    help_time, help_median = process_time(["--help"])
    print(
        f"whole process, handout and record: best {whole:.3f} s, median {whole_median:.3f} s "
        f"(budget < 0.5 s) → {'OK' if whole < 0.5 else 'OVER BUDGET'}"
    )
    print(
        f"hepplan --help: best {help_time:.3f} s, median {help_median:.3f} s "
        f"(budget < 0.2 s) → {'OK' if help_time < 0.2 else 'OVER BUDGET'}"
    )


if __name__ == "__main__":
    main()
