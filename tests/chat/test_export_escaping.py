"""Member text in every export stays text: rendered with hostile titles, descriptions,
names, reasons and answers, no export template lets HTML or Markdown through.

The HTML is parsed as a browser would (html.parser); the Markdown is rendered by a
CommonMark parser (markdown-it-py) and the result parsed the same way: neither may contain
an element that came from member text, and the text must still be readable as written.
(tests/real_programs/ also opens the HTML in Chromium and checks that no script runs.)"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from leerbot.core.agenda import STATUSES, AgendaReport, ReportPoint
from leerbot.core.practices import TEXT_FIELDS, PracticeView
from leerbot.exports import agenda as agenda_exports
from leerbot.exports import practices as practice_exports
from leerbot.paths import PROMPTS_DIR

HOSTILE = "Titel met <script>alert(1)</script> <img src=x onerror=alert(2)> *sterretjes* <b>vet</b>"
BENIGN = "Gewone tekst"
BLOCKS = "\n1. punt\n- lijst\n# kop\n> citaat\n---"  # what would start Markdown blocks


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "br":  # member text keeps its line breaks: that is the point
            self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Elements:
    out = Elements()
    out.feed(html)
    return out


def report(text: str = HOSTILE) -> AgendaReport:
    point = ReportPoint(
        id=1,
        title=text,
        description=text + "\ntweede regel" + (BLOCKS if text == HOSTILE else ""),
        theme=text,
        kind="wens",
        level="organisatie",
        site=text,
        author=text,
        status="nieuw",
        support=3,
        created=date(2026, 11, 2),
    )
    return AgendaReport(
        community=text,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        site=text,
        theme="europa",
        threshold=5,
        themes=[("europa", text)],
        by_theme_status={text: dict.fromkeys(STATUSES, 1)},
        by_site={text: 1},
        top=[point],
        changes=[(date(2026, 11, 3), 1, text, "nieuw", "besproken", text)],
        points=[point],
        theme_name=text,
    )


def practice(text: str = HOSTILE) -> PracticeView:
    return PracticeView(
        id=1,
        title=text,
        site=text,
        fields=dict.fromkeys(TEXT_FIELDS, text),
        theme=None,
        level=None,
        tags=(text,),
        author=text,
        anonymous=False,
        state="shared",
        shared_at=datetime(2026, 11, 2, tzinfo=UTC),
        updated_at=datetime(2026, 11, 2, tzinfo=UTC),
        revisions=0,
        agenda_links=(),
        session_links=(),
        may_edit=False,
    )


def renderings(text: str = HOSTILE) -> list[tuple[str, str, str]]:
    """(template, kind, output) for every export template, in both languages."""
    out = []
    for locale in ("nl", "en"):
        out.append(
            ("agenda.html.j2", "html", agenda_exports.render(report(text), "html", locale).decode())
        )
        out.append(
            ("agenda.md.j2", "md", agenda_exports.render(report(text), "md", locale).decode())
        )
        out.append(
            (
                "practices.md.j2",
                "md",
                practice_exports.render([practice(text)], "md", locale, text).decode(),
            )
        )
    return out


def html_of(kind: str, output: str) -> str:
    return output if kind == "html" else MarkdownIt("commonmark").render(output)


def test_every_export_template_is_covered() -> None:
    templates = {p.name for p in Path(PROMPTS_DIR / "exports").glob("*.j2")}
    assert templates == {name for name, _, _ in renderings()}, "add the new template here"


@pytest.mark.parametrize(
    ("hostile", "benign"), list(zip(renderings(HOSTILE), renderings(BENIGN), strict=True))
)
def test_member_text_is_inert(hostile: tuple[str, str, str], benign: tuple[str, str, str]) -> None:
    """The same document with hostile text has exactly the elements it has with plain text,
    and shows the hostile text as written."""
    template, kind, output = hostile
    elements = parsed(html_of(kind, output))
    assert elements.tags == parsed(html_of(*benign[1:])).tags, (
        f"{template}: member text became markup"
    )
    shown = "".join(elements.text)
    assert "<script>alert(1)</script>" in shown, f"{template}: the text is not shown as written"
    assert "*sterretjes*" in shown and "<b>vet</b>" in shown


def test_html_keeps_line_breaks_and_prints() -> None:
    html = agenda_exports.render(report(), "html", "nl").decode()
    assert ".text { white-space: pre-line" in html and "@media print" in html
    assert "&lt;b&gt;vet&lt;/b&gt;\ntweede regel\n1. punt" in html
