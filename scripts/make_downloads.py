"""Make the Word files that `/` offers for download, from each competition config in chalicelib/competitions/:

    .venv/bin/python -m scripts.make_downloads            # make downloads: (re)writes what changed
    .venv/bin/python -m scripts.make_downloads --check    # exit 1 when a committed file differs from its config

into chalicelib/competitions/downloads/<competition id>/ (committed; GET /downloads/<name> serves them as they
are, so the API never imports python-docx): notice.docx from the notice's text that the config names
(`notice_text`), case-form.docx (参赛案例说明书) from the config's categories and limits and the case form's fields.
The builds are byte for byte the same for the same input (the zip entries carry a fixed date), so a file is
rewritten only when it changed and re-running changes nothing in git. tests/integration/test_downloads.py fails
when the committed files' text drifts from the config.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib import competitions
from chalicelib.domain.competition import competition_from_config
from chalicelib.domain.documents import parse_notice


def build(competition_id: str) -> dict[str, bytes]:
    """name -> the .docx's bytes, for one competition."""
    from chalicelib.exports.competition_documents import case_form_docx, notice_docx
    raw = competitions.load(competition_id)
    comp = competition_from_config(raw)
    files = {"case-form.docx": case_form_docx(comp)}
    text = competitions.notice_text(raw)
    if text is not None:
        files["notice.docx"] = notice_docx(comp, parse_notice(text))
    return files


def stale(competition_id: str) -> dict[Path, bytes]:
    """The files that differ from a fresh build (or are missing), with the new bytes."""
    changed = {}
    for name, data in build(competition_id).items():
        path = competitions.download_path(competition_id, name)
        if not path.is_file() or path.read_bytes() != data:
            changed[path] = data
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    args = parser.parse_args(argv)
    changed = {path: data for cid in competitions.ids() for path, data in stale(cid).items()}
    for path, data in changed.items():
        shown = path.relative_to(competitions.HERE.parents[1])
        if args.check:
            print(f"out of date: {shown} (run make downloads)", file=sys.stderr)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {shown} ({len(data)} bytes)")
    if not changed:
        print("downloads are up to date")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
