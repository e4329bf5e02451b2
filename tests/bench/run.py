"""`make bench`: every benchmark in turn, against the persistent bench database.

`make bench ONLY="dashboards incremental"` runs just those parts (after seeding, if needed).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import bench_load, bench_residents, bench_rollups

PARTS = {
    "residents": bench_residents.main,
    **bench_rollups.PARTS,
    **bench_load.PARTS,
}
# The load and fault runs bring their own database and processes; the rest share the 100x street.
OWN_SETUP = set(bench_load.PARTS)

if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    chosen = sys.argv[1:] or list(PARTS)
    unknown = [name for name in chosen if name not in PARTS]
    if unknown:
        sys.exit(f"unknown bench part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    if set(chosen) - OWN_SETUP:
        bench_rollups.prepare()
    for name in chosen:
        PARTS[name]()
