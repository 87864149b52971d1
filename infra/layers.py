"""Splits Chalice's one dependencies layer into a layer per need, and takes the CJK font out of the code zip.

    python -m infra.layers build/sam.json build/deployment.zip build/layer-deployment.zip   # make package

Chalice's `automatic_layer` puts every requirement into one layer that every function gets, and everything
under chalicelib/ into every function's zip. The exports' libraries and the font are most of both, and the
API function, which is the one users wait for, never imports them. After `chalice package`:
  - ManagedLayer (Chalice's, layer-deployment.zip): what every function imports (boto3, PynamoDB, Jinja2,
    argon2, segno, ...);
  - SpreadsheetLayer (layer-spreadsheets.zip): openpyxl and et-xmlfile, for the API (the judges' xlsx
    import, chalicelib/services/judge_import.py) and the exports function;
  - DocumentLayer (layer-documents.zip): fpdf2, fontTools, Pillow, python-docx, lxml, defusedxml and the font
    (chalicelib/fonts -> /opt/saiping-fonts, where chalicelib/exports/certificates_pdf.py looks first), for the
    exports function only.
A distribution moves whole: the top-level packages its RECORD names and its dist-info. The template gets the
two layers, and each function the layers of its needs.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

SITE = re.compile(r"^python/lib/python3\.\d+/site-packages/")
FONTS_IN_CODE = "chalicelib/fonts/"
FONTS_IN_LAYER = "saiping-fonts/"          # /opt/saiping-fonts in Lambda
LAYERS: dict[str, dict[str, Any]] = {
    "SpreadsheetLayer": {
        "zip": "layer-spreadsheets.zip", "name": "spreadsheets",
        "distributions": ("openpyxl", "et_xmlfile"),
        "functions": ("api_handler", "exports"), "fonts": False,
    },
    "DocumentLayer": {
        "zip": "layer-documents.zip", "name": "documents",
        "distributions": ("fpdf2", "fonttools", "pillow", "python_docx", "lxml", "defusedxml"),
        "functions": ("exports",), "fonts": True,
    },
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def distribution_files(layer: zipfile.ZipFile, distribution: str) -> set[str]:
    """The zip entries of one installed distribution: the top-level packages and modules its dist-info's
    RECORD names (with whatever else is under them, such as bytecode), and the dist-info itself."""
    names = layer.namelist()
    records = [n for n in names if SITE.match(n) and n.endswith(".dist-info/RECORD")
               and _normal(PurePosixPath(n).parent.name[:-len(".dist-info")].rsplit("-", 1)[0])
               == _normal(distribution)]
    if len(records) != 1:
        raise SystemExit(f"layer: expected one dist-info of {distribution}, found {len(records)}")
    record = records[0]
    site = SITE.match(record).group(0)
    tops = {line.split(",", 1)[0].split("/", 1)[0] for line in layer.read(record).decode("utf-8").splitlines()
            if line.strip() and not line.startswith("..")} - {"__pycache__"}
    return {n for n in names if n.startswith(site) and n[len(site):].split("/", 1)[0] in tops}


def _rewrite(archive: Path, keep: set[str]) -> None:
    handle, temporary = tempfile.mkstemp(suffix=".zip", dir=archive.parent)
    os.close(handle)
    with zipfile.ZipFile(archive) as old, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in keep:
                new.writestr(info, old.read(info))
    os.chmod(temporary, archive.stat().st_mode)
    os.replace(temporary, archive)


def split(sam: Path, code: Path, managed: Path) -> dict[str, list[str]]:
    """Moves each layer's distributions out of `managed` (and the font out of `code`) into its own zip beside
    them, and declares the layers in `sam`; returns layer -> the top-level names it carries."""
    carried: dict[str, list[str]] = {}
    moved: set[str] = set()
    with zipfile.ZipFile(managed) as layer, zipfile.ZipFile(code) as functions_zip:
        names = layer.namelist()
        for resource_id, spec in LAYERS.items():
            files = set().union(*(distribution_files(layer, d) for d in spec["distributions"]))
            with zipfile.ZipFile(managed.parent / spec["zip"], "w", zipfile.ZIP_DEFLATED) as new:
                for info in layer.infolist():
                    if info.filename in files:
                        new.writestr(info, layer.read(info))
                if spec["fonts"]:
                    for info in functions_zip.infolist():
                        if info.filename.startswith(FONTS_IN_CODE) and not info.is_dir():
                            font = zipfile.ZipInfo(FONTS_IN_LAYER + info.filename[len(FONTS_IN_CODE):],
                                                   date_time=info.date_time)
                            font.external_attr = info.external_attr
                            new.writestr(font, functions_zip.read(info), zipfile.ZIP_DEFLATED)
            moved |= files
            carried[resource_id] = sorted({SITE.sub("", f).split("/", 1)[0] for f in files})
        code_keep = {n for n in functions_zip.namelist() if not n.startswith(FONTS_IN_CODE)}
    _rewrite(managed, set(names) - moved)
    _rewrite(code, code_keep)
    declare(sam)
    return carried


def declare(sam: Path) -> None:
    """The layers as resources of the template, and each in the Layers of the functions that need it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from infra.build_template import app_functions
    template = json.loads(sam.read_text(encoding="utf-8"))
    resources = template["Resources"]
    managed = resources["ManagedLayer"]["Properties"]
    functions = app_functions()
    for resource_id, spec in LAYERS.items():
        resources[resource_id] = {"Type": "AWS::Serverless::LayerVersion", "Properties": {
            "CompatibleRuntimes": managed["CompatibleRuntimes"],
            "CompatibleArchitectures": managed["CompatibleArchitectures"],
            "ContentUri": "./" + spec["zip"],
            "LayerName": {"Fn::Sub": "saiping-${Stage}-" + spec["name"]},
            "Description": ", ".join(spec["distributions"]) + (" and the CJK font" if spec["fonts"] else "")
                           + " (infra/layers.py)"}}
        for function in spec["functions"]:
            if functions.get(function) in resources:
                resources[functions[function]]["Properties"]["Layers"].append({"Ref": resource_id})
    sam.write_text(json.dumps(template, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sam", type=Path)
    parser.add_argument("code", type=Path, help="the functions' zip (deployment.zip)")
    parser.add_argument("managed", type=Path, help="Chalice's layer (layer-deployment.zip)")
    args = parser.parse_args()
    for resource_id, tops in split(args.sam, args.code, args.managed).items():
        print(f"{args.managed.parent / LAYERS[resource_id]['zip']} ({resource_id}): "
              + ", ".join(t for t in tops if not t.endswith(".dist-info")))


if __name__ == "__main__":
    main()
