"""The catalog of patient-facing words: one folder of templates per language (``en/`` first).

A message key names a template file and one of its blocks: ``handout.safety_title`` is the
block ``safety_title`` of ``<language>/handout.j2``. A key may carry a variant after a colon,
``signs.saddle_anesthesia:unsure``, which the block sees as a true ``unsure``. Rules and red
flags carry keys, never English; the documents and the e-mail ask the catalog for their words.

Everything renders in one environment: jinja2's immutable sandbox with StrictUndefined (a
missing value is an error, never a blank), autoescaping for ``*.html.j2`` only (PDF text is
escaped where it enters a paragraph), and a bound on what one block may produce.
"""

from __future__ import annotations

import datetime as dt
import functools

import jinja2
import jinja2.sandbox

from hepplan.io.resources import templates_dir

#: The most one block may produce; the largest shipped block is under 1,000 characters.
MAX_BLOCK_CHARS = 20_000
#: Messages already rendered, by template, block and context: a handout asks for the same
#: headings, steps and reasons again and again. Bounded, so a long batch cannot grow it.
_SAID: dict[tuple, str] = {}
_SAID_LIMIT = 8_192


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one environment every patient-facing word is rendered in."""
    return jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def languages() -> tuple[str, ...]:
    """The languages with a catalog folder."""
    return tuple(sorted(p.name for p in templates_dir().iterdir() if p.is_dir()))


class Words:
    """The words of one language."""

    def __init__(self, language: str = "en"):
        self.language = language

    def say(self, key: str, **context) -> str:
        """One message, rendered with ``context``."""
        name, _, variant = key.partition(":")
        document, _, block = name.partition(".")
        if variant:
            context[variant] = True
        template = f"{self.language}/{document}.j2"
        try:
            memo = (template, block, *sorted(context.items()))
            said = _SAID.get(memo)
        except TypeError:  # a list in the context: render it afresh
            return self._block(template, block, context)
        if said is None:
            said = self._block(template, block, context)
            if len(_SAID) >= _SAID_LIMIT:
                _SAID.clear()
            _SAID[memo] = said
        return said

    def lines(self, key: str, **context) -> tuple[str, ...]:
        """A message that is a list, one item per line."""
        return tuple(line.strip() for line in self.say(key, **context).splitlines() if line)

    def has(self, key: str) -> bool:
        document, _, block = key.partition(":")[0].partition(".")
        template = environment().get_template(f"{self.language}/{document}.j2")
        return block in template.blocks

    def page(self, name: str, **context) -> str:
        """A whole template (an e-mail body)."""
        template = environment().get_template(f"{self.language}/{name}")
        return template.render(**context).strip() + "\n"

    def date(self, day: dt.date, us: bool = True) -> str:
        """A date in words: "November 19, 2026" (US letter clinics) or "19 November 2026"."""
        month = self.lines("common.months")[day.month - 1]
        return f"{month} {day.day}, {day.year}" if us else f"{day.day} {month} {day.year}"

    @staticmethod
    def _block(template_name: str, block: str, context: dict) -> str:
        template = environment().get_template(template_name)
        if block not in template.blocks:
            raise KeyError(f"{template_name} has no block {block!r}")
        parts, size = [], 0
        for part in template.blocks[block](template.new_context(context)):
            size += len(part)
            if size > MAX_BLOCK_CHARS:
                raise jinja2.TemplateRuntimeError(
                    f"{template_name}: block {block} is longer than {MAX_BLOCK_CHARS:,} characters"
                )
            parts.append(part)
        return "".join(parts).strip()


@functools.lru_cache(maxsize=8)
def words(language: str = "en") -> Words:
    """The catalog of one language, shared by everything a process renders."""
    return Words(language)
