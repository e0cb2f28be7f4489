#!/usr/bin/python3
"""Print a header's `order:` file (spec/products.yaml) from an upstream copy of it.

  tools/order_from_header.py PRODUCT HEADER_PATH UPSTREAM_FILE > spec/order/NAME.yaml

Lists, in UPSTREAM_FILE's order, one name per definition the product's header holds:
a type, enum or typedef by its name, a constant group by the first of its constants
upstream defines. Names upstream has and the header lacks are left out; definitions the
header has and upstream lacks follow their spec neighbour (products.ordered).
"""

import importlib.util
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))
from hvabi import model as m  # noqa: E402
from hvabi.cli import load  # noqa: E402
from hvabi.emit.products import header_defs  # noqa: E402

_td = importlib.util.spec_from_file_location("token_diff", REPO / "tools/token_diff.py")
td = importlib.util.module_from_spec(_td)
_td.loader.exec_module(td)


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    product_name, header_path, upstream = sys.argv[1:]
    spec, products = load(REPO / "spec")
    product = next((p for p in products if p.name == product_name), None)
    header = product and next((h for h in product.headers if h.path == header_path), None)
    if header is None:
        print(f"order_from_header.py: no header {header_path} in product {product_name}",
              file=sys.stderr)
        return 2
    header.order = None                 # the spec order, to map names to definitions
    _, defs = header_defs(spec, product, header)
    group_of = {}
    for _, defn in defs:
        names = [c.name for c in defn.items] if isinstance(defn, m.ConstGroup) else [defn.name]
        for name in names:
            group_of[name] = id(defn)
    text = pathlib.Path(upstream).read_text(encoding="utf-8")
    done = set()
    print(f"# {header_path}: the definition order upstream's copy has.\n"
          "# Made by tools/order_from_header.py; see docs/spec-format.md, \"Order\".\norder:")
    for item in td.items(td.tokenize(text)):
        name = td.item_name(item)
        if not name or not name.startswith(("#define", "struct", "union", "enum", "typedef")):
            continue
        name = name.split()[-1]
        if name in group_of and group_of[name] not in done:
            done.add(group_of[name])
            print(f"  - {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
