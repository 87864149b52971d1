"""The competition's own documents that `/` offers for download, and its contacts: what they say, as pure data.

- 大赛通知 (notice.docx): the notice's text kept beside the config (`notice_text`, e.g. shenzhen-2023-notice.txt),
  one paragraph a line, blank lines ignored. A line's start says what it is:
  `# ` a title (centred), `## ` a heading (一、…), `### ` a sub-heading (（一）…), `: ` a paragraph set flush
  left (the addressees, the attachment's lines), `---` a new page (the attachment); any other line is a body
  paragraph with a first-line indent of two characters.
- 参赛案例说明书 (case-form.docx): the rows of the case form (web/unit_pages.py's form, domain/cases.py's labels),
  in its order, with the choices of each select and the config's text limits stated, for a unit to fill in on paper.

chalicelib/exports/competition_documents.py lays both out with python-docx; scripts/make_downloads.py writes
them into chalicelib/competitions/downloads/<competition id>/, which the page route serves as they are.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .cases import FIELD_LABELS, GENDERS, ORIGINALITY_PLEDGE, RANK_LEVELS
from .competition import Competition

MARKS = (("### ", "subheading"), ("## ", "heading"), ("# ", "title"), (": ", "flush"))


@dataclass(frozen=True)
class Block:
    kind: str           # title | heading | subheading | flush | paragraph | page_break
    text: str = ""


@dataclass(frozen=True)
class Download:
    name: str           # the address: /downloads/<name>
    title: str          # the link's words on `/`
    filename: str       # what the browser saves it as


@dataclass(frozen=True)
class FormRow:
    label: str
    hint: str = ""      # the choices (□发展提质 □服务增效 □党建赋能) or what the row takes
    lines: int = 1      # the writing space it needs, in lines (a paragraph of text takes several)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str

    @property
    def tel(self) -> str:
        """The `tel:` address: the phone as the config writes it (an area code only when it gives one)."""
        return "tel:" + "".join(self.phone.split())


def downloads(comp: Competition) -> tuple[Download, ...]:
    """What `/` offers: the notice when the config keeps its text (`notice_text`), and the 说明书 template."""
    number = comp.raw.get("notice_number")
    notice = Download("notice.docx", f"大赛通知（{number}）" if number else "大赛通知", f"{comp.short_name}通知.docx")
    template = Download("case-form.docx", "参赛案例说明书（模板）", f"{comp.short_name}参赛案例说明书.docx")
    return (notice, template) if comp.raw.get("notice_text") else (template,)


def download(comp: Competition, name: str) -> Download | None:
    return next((d for d in downloads(comp) if d.name == name), None)


def contacts(raw: Mapping[str, Any]) -> tuple[Contact, ...]:
    return tuple(Contact(str(c["name"]), str(c["phone"])) for c in raw.get("contacts") or ())


def parse_notice(text: str) -> tuple[Block, ...]:
    blocks = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line.strip():
            continue
        if line == "---":
            blocks.append(Block("page_break"))
            continue
        kind = next((k for mark, k in MARKS if line.startswith(mark)), "paragraph")
        mark = next((m for m, k in MARKS if k == kind), "")
        blocks.append(Block(kind, line[len(mark):].strip() if mark else line))
    return tuple(blocks)


def _choices(options: Mapping[str, str] | list[str]) -> str:
    return "　".join(f"□{name}" for name in (options.values() if isinstance(options, Mapping) else options))


def case_form_rows(comp: Competition) -> tuple[FormRow, ...]:
    """The case form's fields in its order: 基本信息, 牵头人, 联系人, 案例内容 (1 to max_points points each), 承诺."""
    label = FIELD_LABELS
    rows = [
        FormRow(label["category"], _choices([c.name for c in comp.categories])),
        FormRow(label["recommending_unit"]), FormRow(label["title"]),
        FormRow(label["leader.name"]), FormRow(label["leader.position"]),
        FormRow(label["leader.office_phone"], "如 0755-88134324"), FormRow(label["leader.mobile"]),
        FormRow(label["leader.gender"], _choices(GENDERS)), FormRow(label["leader.rank_level"], _choices(RANK_LEVELS)),
        FormRow(label["leader.birth_date"], "　　年　　月　　日"),
        FormRow(label["contact.name"]), FormRow(label["contact.position"]),
        FormRow(label["contact.office_phone"]), FormRow(label["contact.mobile"]),
        FormRow(label["background"], lines=12),
    ]
    for key in ("innovations", "results"):
        rows += [FormRow(f"{label[key]}{n}", lines=5) for n in range(1, comp.max_points + 1)]
    rows.append(FormRow(label["originality_pledge"], f"□{ORIGINALITY_PLEDGE}"))
    return tuple(rows)


def case_form_limits(comp: Competition) -> str:
    return (f"案例名称、{FIELD_LABELS['background']}、{FIELD_LABELS['innovations']}和{FIELD_LABELS['results']}"
            f"合计不超过 {comp.max_chars} 字（不计空白）；{FIELD_LABELS['innovations']}和{FIELD_LABELS['results']}"
            f"各 1～{comp.max_points} 条。")
