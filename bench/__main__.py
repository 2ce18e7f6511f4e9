"""``python -m bench [NAME ...]``: run every ``bench/bench_*.py`` module's ``main()`` in order, each in its own
subprocess (so one benchmark's warm caches or threads never flatter the next). Names filter by substring
(``-`` matches ``_``: ``python -m bench dup-charge``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    filters = [
        f.replace("-", "_") for f in (sys.argv[1:] if argv is None else argv)
    ]  # dup-charge → dup_charge
    root = Path(__file__).resolve().parent
    names = sorted(p.stem for p in root.glob("bench_*.py"))
    if filters:
        names = [n for n in names if any(f in n for f in filters)]
        if not names:
            print(f"bench: nothing matches {filters}", file=sys.stderr)
            return 2
    failed = []
    for name in names:
        rc = subprocess.run(
            [sys.executable, "-c", f"import bench.{name} as m; m.main()"], cwd=root.parent, check=False
        ).returncode
        if rc:
            failed.append(name)
            print(f"bench: {name} failed with exit code {rc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
