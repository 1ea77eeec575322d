"""Peak memory of `capstan update verify` and of an install at boot, for a bundle at the
size cap (256 MiB), each in a fresh process: prints the figures.

    PYTHONPATH=firmware python bench/update_memory.py [--mib N]

The bundle is a signed one with a single stored (incompressible) capstan wheel, made in
a temporary directory; the install uses the unpacking builder, so the figure is the
updater's own (pip's, run by the real builder, is a separate process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "firmware"), str(REPO)]

from tests.update.helpers import seeded_root, write_big_bundle  # noqa: E402

from capstan.update import minisign  # noqa: E402
from capstan.update.manifest import MAX_BUNDLE  # noqa: E402

STEP = """
import json, resource, sys
from pathlib import Path
what, root, card = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
from capstan.cli import main
from capstan.update.boot import boot
from capstan.update.venv import UnpackBuilder
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if what == "verify":
    code = main(["update", "verify", card, "--root", str(root)])
    ok = code == 0
elif what == "install":
    report = boot(root, this_boot="b1", now=0.0, compatible="capstan,reference-v1",
                  builder=UnpackBuilder())
    ok = report.installed is not None
else:
    ok = True
print(json.dumps({"ok": ok, "base_kib": base,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def measure(what: str, root: Path, card: Path) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "firmware"), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", STEP, what, str(root), str(card)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=MAX_BUNDLE >> 20,
                    help="bundle size in MiB (default: the cap)")
    args = ap.parse_args()
    key = minisign.generate()
    with tempfile.TemporaryDirectory(prefix="capstan-bench-") as tmp:
        layout = seeded_root(Path(tmp), key)
        card = write_big_bundle(layout.boot / "capstan-0.2.0.capstan", key, "0.2.0",
                                (args.mib << 20) - (64 << 10))
        size = card.stat().st_size
        print(f"bundle: {size / 2**20:.1f} MiB (cap {MAX_BUNDLE >> 20} MiB)")
        for what in ("import", "verify", "install"):
            r = measure(what, layout.root, card)
            print(f"{what:8s} peak RSS {r['peak_kib'] / 1024:6.1f} MiB "
                  f"(after imports {r['base_kib'] / 1024:5.1f} MiB)"
                  + ("" if r["ok"] else "  FAILED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
