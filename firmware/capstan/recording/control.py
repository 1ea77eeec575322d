"""The control socket's `record` command, registered by `Recorder.socket_commands()`:

    {"cmd": "record", "playlist": [{"path": …, "gain_db": …, "start": …, "seconds": …}],
     "gap": 3}  ->  {"ok": true} | {"ok": false, "error": "side A is write-protected: …"}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def handle_record(recorder: Any, request: dict[str, Any]) -> dict[str, Any]:
    """A planned playlist (`capstan record --playlist`) onto the tape, by `recorder`."""
    from capstan.recording.plan import PlannedTrack

    items = request.get("playlist")
    if not isinstance(items, list) or not items:
        return {"ok": False, "error": "record needs \"playlist\": planned tracks "
                                      "(capstan record --playlist plans them)"}
    try:
        tracks = [PlannedTrack(Path(i["path"]), float(i["seconds"]), float(i["peak_dbfs"]),
                               float(i["gain_db"]), "A", float(i["start"])) for i in items]
        gap = float(request.get("gap", 3.0))
    except (KeyError, TypeError, ValueError) as exc:
        return {"ok": False, "error": f"a playlist entry is incomplete ({exc})"}
    missing = [str(t.path) for t in tracks if not t.path.is_file()]
    if missing:
        return {"ok": False, "error": f"the player cannot read {', '.join(missing)}: "
                                      "copy the files onto the player first"}
    reason = recorder.record_playlist(tracks, gap)
    return {"ok": True} if reason is None else {"ok": False, "error": reason}
