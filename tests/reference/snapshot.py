#!/usr/bin/python3
"""Write a layout-facts snapshot of an upstream header set (names, sizes, offsets, bit
positions, values: facts only, no code) for the parity tests.

  snapshot.py NAME REVISION HEADER...      e.g.
  snapshot.py linux-hvhdk cf82dd5e... ~/linux/include/hyperv/*.h

Writes tests/reference/NAME-<arch>.facts.json for x86_64 and arm64. The upstream headers
themselves stay outside the repository.
"""

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import facts  # noqa: E402
from hvabi.extract.header_sets import kernel_facts  # noqa: E402
from hvabi.model import ARCHES  # noqa: E402


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, revision, headers = argv[0], argv[1], [pathlib.Path(h).resolve() for h in argv[2:]]
    for arch in ARCHES:
        doc = kernel_facts(headers, arch)
        doc["source"] = f"{name} at {revision}: " + ", ".join(h.name for h in headers)
        (HERE / f"{name}-{arch}.facts.json").write_text(facts.dump(doc))
        print(f"{name}-{arch}: {len(doc['records'])} records, {len(doc['enumerators'])} enumerators,"
              f" {len(doc['macros'])} macros")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
