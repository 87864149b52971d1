"""Adds compiled bytecode to the Lambda zips that `chalice package` writes.

Lambda's file system is read-only, so Python cannot cache what it compiles: without `__pycache__` in the
zips every cold start compiles each module it imports (the app's and the layer's; Chalice's packager
adds sources only). Each `x.py` gets `__pycache__/x.cpython-311.pyc` in unchecked-hash mode (PEP 552:
used without looking at the source's time stamp, which a zip need not keep). Bytecode is specific to the
Python version, so this refuses to run under another version than the functions' runtime.

    python -m infra.bytecode build/sam.json build/deployment.zip build/layer-deployment.zip
"""
from __future__ import annotations

import argparse
import json
import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath


def runtime_of(sam: Path) -> str:
    """The one Python runtime of the template's functions, e.g. "python3.11"."""
    resources = json.loads(sam.read_text(encoding="utf-8"))["Resources"].values()
    runtimes = {r["Properties"]["Runtime"] for r in resources if r["Type"] == "AWS::Serverless::Function"}
    if len(runtimes) != 1:
        raise SystemExit(f"expected one runtime in {sam}, found {sorted(runtimes)}")
    return runtimes.pop()


def pyc_name(source: str) -> str:
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc")


def bytecode(source: bytes, name: str, scratch: Path) -> bytes | None:
    """The .pyc file's bytes for `source`, or None when it does not compile (such a file is never imported)."""
    source_file, pyc_file = scratch / "module.py", scratch / "module.pyc"
    source_file.write_bytes(source)
    try:
        py_compile.compile(str(source_file), cfile=str(pyc_file), dfile=name, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        return None
    return pyc_file.read_bytes()


def add_bytecode(archive: Path) -> tuple[int, int]:
    """Rewrites `archive` with a .pyc beside every .py (old __pycache__ entries dropped); (added, skipped)."""
    added = skipped = 0
    handle, temporary = tempfile.mkstemp(suffix=".zip", dir=archive.parent)
    os.close(handle)
    with zipfile.ZipFile(archive) as old, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as new, \
            tempfile.TemporaryDirectory() as scratch:
        for info in old.infolist():
            if "__pycache__/" in info.filename:
                continue
            data = old.read(info)
            new.writestr(info, data)
            if info.filename.endswith(".py"):
                compiled = bytecode(data, info.filename, Path(scratch))
                if compiled is None:
                    skipped += 1
                    continue
                pyc = zipfile.ZipInfo(pyc_name(info.filename), date_time=info.date_time)
                pyc.external_attr = info.external_attr
                new.writestr(pyc, compiled, zipfile.ZIP_DEFLATED)
                added += 1
    os.chmod(temporary, archive.stat().st_mode)   # mkstemp's file is private; keep the zip's own mode
    os.replace(temporary, archive)
    return added, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sam", type=Path)
    parser.add_argument("zips", type=Path, nargs="+")
    args = parser.parse_args()
    wanted = runtime_of(args.sam)
    running = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if running != wanted:
        raise SystemExit(f"the functions run {wanted}; compiling with {running} would ship unusable bytecode")
    for archive in args.zips:
        added, skipped = add_bytecode(archive)
        print(f"{archive}: {added} modules compiled, {skipped} not compilable (left as source)")


if __name__ == "__main__":
    main()
