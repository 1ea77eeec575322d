"""Screenshots of the front panel for the docs: `python -m capstan.panel.screenshot DIR`.

Runs the panel headless on a scratch data directory with the demo mixtape,
pairs the simulated headphones (when the Bluetooth daemons are there), plays a
few seconds into a song and saves SVGs (Textual's own screenshots); then, if
`rsvg-convert` (Debian: librsvg2-bin) is there, PNGs made from them.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from capstan.panel.app import PanelApp
from capstan.panel.shelf import DEMO_LENGTH, DEMO_TYPE, default_demo_wav
from capstan.sim.cassette import Cassette

SIZE = (112, 40)
INTO_THE_SIDE = 40.0  # s: a few seconds into the second song of the demo


async def shoot(out: Path, play_for: float = 3.0) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch)
        app = PanelApp(data_dir=data, sound_device=None)
        shots = []
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None
            demo = Cassette.create(data / "cassettes" / "demo-mixtape", bench.description.mechanism,
                                   DEMO_LENGTH, DEMO_TYPE, name="Demo mixtape")
            demo.import_audio("A", default_demo_wav())
            demo.position = INTO_THE_SIDE
            bench.insert(demo)
            await pilot.pause(0.5)
            await pilot.press("p")
            if bench.bluetooth is not None:  # the headphones paired: the sound follows them
                await pilot.press("h")
                await pilot.press("B")
                await _until(pilot, lambda: bench.player.headphones.status()["active_output"]
                             == "bluetooth" and bench.player.headphones.status()["battery"])
            await pilot.pause(play_for)
            shots.append(Path(app.save_screenshot("panel.svg", str(out))))
            await pilot.press("x")
            await pilot.pause(0.3)
            shots.append(Path(app.save_screenshot("panel-faults.svg", str(out))))
            await pilot.press("escape")
    return shots


async def _until(pilot: Any, condition: Callable[[], object], limit: float = 60.0) -> None:
    """Run the panel until CONDITION holds (LIMIT only guards against a hang)."""
    for _ in range(int(limit / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    raise RuntimeError("the headphones did not connect for the screenshot")


def to_png(svg: Path) -> Path | None:
    """A PNG next to the SVG via rsvg-convert, or None when it is not installed."""
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        return None
    # keep the runs of spaces Textual's SVG relies on (browsers keep them; librsvg does not)
    text = svg.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1)
    fixed = svg.with_suffix(".preserve.svg")
    fixed.write_text(text)
    png = svg.with_suffix(".png")
    try:
        subprocess.run([rsvg, "-o", str(png), str(fixed)], check=True)
    finally:
        fixed.unlink()
    return png


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/images", help="where to put them")
    args = parser.parse_args()
    for svg in asyncio.run(shoot(Path(args.out))):
        png = to_png(svg)
        print(svg, png or "(no rsvg-convert: no PNG)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
