"""Configuration loading benchmark.

``yaml-config``: CPU (``time.process_time``, best of 3) for :func:`linewatch.yamlconf.load_located` to read a
generated inventory of 5,000 lines (about 1 MB: data plus the line of every key, aliases refused, scalars
converted) vs ``yaml.load(..., Loader=yaml.CSafeLoader)`` of the same text — libyaml's fastest safe load, which
keeps no line numbers (the reference). Ratio = ours / reference. Also prints the figure for the loader linewatch
used before issue 9 (compose, then one ``SafeLoader`` per scalar) so the change can be seen.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from linewatch.yamlconf import YAML_LOADER, load_located

LINES = 5000
LINE = """  - id: L{i}
    carrier: Telia
    circuit_id: C-{i}
    type: internet
    site: Frankfurt
    department: Eng
    device: r1
    interface: ge-0/0/{i}
    capacity_bps: 100000000
    install_date: 2024-01-01
"""


def _best_cpu_s(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return best


def _previous_loader(text: str) -> object:
    """What linewatch did before: compose with the pure-Python loader, then re-parse every scalar on its own."""

    def construct(node: yaml.Node) -> object:
        if isinstance(node, yaml.MappingNode):
            return {k.value: construct(v) for k, v in node.value}
        if isinstance(node, yaml.SequenceNode):
            return [construct(item) for item in node.value]
        if node.tag == "tag:yaml.org,2002:str":
            return node.value
        return yaml.SafeLoader(yaml.serialize(node)).get_single_data()

    return construct(yaml.compose(text, Loader=yaml.SafeLoader))


def main() -> None:
    text = "devices: []\nlines:\n" + "".join(LINE.format(i=i) for i in range(LINES))
    with tempfile.TemporaryDirectory(prefix="bench-yaml-") as tmp:
        path = Path(tmp) / "lines.yaml"
        path.write_text(text)
        reference_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        assert load_located(path).data == yaml.load(text, Loader=reference_loader)
        ours = _best_cpu_s(lambda: load_located(path))
        ref = _best_cpu_s(lambda: yaml.load(text, Loader=reference_loader))
        before = _best_cpu_s(lambda: _previous_loader(text), repeat=1)
    print(f"# {LINES} inventory lines, {len(text) / 1e6:.2f} MB, parser {YAML_LOADER.__name__}; "
          f"loader before issue 9: {before:.2f} s")
    print(f"bench yaml-config: {ours:.3f} s | yaml.load CSafeLoader: {ref:.3f} s | ratio {ours / ref:.2f}")


if __name__ == "__main__":
    main()
