"""The AWS emulator for long benchmarks: moto's server with the item-level transaction rollback of
scripts/moto_rollback.py (the local stack's emulator, scripts/local_emulator.py, has it too; the tests'
in-process moto is moto as it is).

    python benchmarks/moto_server.py -H 127.0.0.1 -p <port>
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import moto_rollback  # noqa: E402,F401  (installs the rollback)

if __name__ == "__main__":
    from moto.server import main
    main(sys.argv[1:])
