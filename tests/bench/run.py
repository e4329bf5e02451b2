"""`make bench`: every benchmark in turn, against the persistent bench database."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import bench_residents, bench_rollups

if __name__ == "__main__":
    bench_residents.main()
    bench_rollups.main()
