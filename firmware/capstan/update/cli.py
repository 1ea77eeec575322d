"""`capstan update verify|install|status|boot|confirm` (imports stay inside functions)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ROOT_HELP = "the directory that stands for / (default: /)"


def register(subparsers: Any) -> None:
    update = subparsers.add_parser("update", help="verify and install update bundles (.capstan)")
    sub = update.add_subparsers(dest="update_command", metavar="ACTION", required=True)

    p = sub.add_parser("verify", help="check a bundle as install would; exit 0 if this player "
                       "would install it")
    p.add_argument("bundle", type=Path)
    p.add_argument("--key", type=Path, help="minisign public key (default: the player's)")
    p.add_argument("--root", type=Path, default=Path("/"), help=ROOT_HELP)
    p.set_defaults(func=run_verify)

    p = sub.add_parser("install", help="install a bundle into the inactive slot")
    p.add_argument("bundle", type=Path)
    p.add_argument("--root", type=Path, default=Path("/"), help=ROOT_HELP)
    p.add_argument("--key", type=Path, help="minisign public key (default: the player's)")
    p.set_defaults(func=run_install)

    p = sub.add_parser("status", help="slots, versions, trial and the last result")
    p.add_argument("--root", type=Path, default=Path("/"), help=ROOT_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_status)

    p = sub.add_parser("boot", help="at start-up: settle a trial, install bundles from the card")
    p.add_argument("--root", type=Path, default=Path("/"), help=ROOT_HELP)
    p.add_argument("--deadline", type=float, default=None,
                   help="seconds the new firmware has to report healthy (default 180)")
    p.add_argument("--watch", action="store_true",
                   help="after READY, stay and roll back if the trial misses its deadline")
    p.set_defaults(func=run_boot)

    p = sub.add_parser("confirm", help="end the trial of the running slot: it is healthy")
    p.add_argument("--root", type=Path, default=Path("/"), help=ROOT_HELP)
    p.set_defaults(func=run_confirm)


def run_verify(args: argparse.Namespace) -> int:
    from capstan.update.install import load_key, verify
    from capstan.update.slots import Layout

    layout = Layout(args.root)
    key = load_key(layout, args.key)
    bundle = verify(args.bundle, layout, key=key)
    m = bundle.manifest
    print(f"ok: capstan {m.version} for {m.compatible}, {len(m.payload)} payload file(s), "
          f"signed by key {key.id_hex} ({bundle.trusted_comment})")
    return 0


def run_install(args: argparse.Namespace) -> int:
    from capstan.power.update_check import power_check_for
    from capstan.update.install import install, load_key
    from capstan.update.slots import Layout

    layout = Layout(args.root)
    done = install(args.bundle, layout, key=load_key(layout, args.key),
                   power_ok=power_check_for(args.root))
    print(f"installed capstan {done.version} into slot {done.slot} "
          f"({done.files_checked} files hashed again); it is on trial from the next start")
    return 0


def status(root: Path) -> dict[str, Any]:
    from capstan.update import ledger
    from capstan.update.slots import SLOTS, Layout, read_marker

    layout = Layout(root)
    slots = {}
    for name in SLOTS:
        info = read_marker(layout, name)
        slots[name] = info.version if info else None
    record = ledger.read_trial(layout)
    return {
        "current": layout.active(), "good": layout.pointed(layout.good), "slots": slots,
        "trial": None if record is None else {
            "slot": record.slot, "version": record.version, "started": record.boot_id is not None},
        "failed_bundles": len(ledger.read_history(layout).failed_manifests),
        "last_result": ledger.read_result(layout),
    }


def run_status(args: argparse.Namespace) -> int:
    import json

    st = status(args.root)
    if args.json:
        print(json.dumps(st, indent=2))
        return 0
    for name, version in st["slots"].items():
        marks = [w for w in ("current", "good") if st[w] == name]
        print(f"slot {name}: {version or '(empty)'}" + (f"  [{', '.join(marks)}]" if marks else ""))
    trial = st["trial"]
    print("trial: " + ("none" if not trial else
                       f"slot {trial['slot']} ({trial['version']}), "
                       + ("started, awaiting healthy" if trial["started"] else
                          "starts at the next boot")))
    print(f"bundles that failed a trial: {st['failed_bundles']}")
    if st["last_result"]:
        print("last result:\n  " + "\n  ".join(st["last_result"].strip().splitlines()))
    return 0


def run_boot(args: argparse.Namespace) -> int:
    import subprocess
    import time

    from capstan.power.update_check import power_check_for
    from capstan.update import trial
    from capstan.update.boot import boot
    from capstan.update.notify import sd_notify
    from capstan.update.slots import Layout

    this_boot = trial.boot_id()
    deadline = trial.DEFAULT_DEADLINE if args.deadline is None else args.deadline
    report = boot(args.root, this_boot=this_boot, now=time.monotonic(), deadline=deadline,
                  power_ok=power_check_for(args.root))
    print(f"trial: {report.settled} -> {report.trial}; installed: {report.installed or 'none'}"
          + "".join(f"\nrefused {r}" for r in report.rejected))
    sd_notify("READY=1")
    if args.watch and report.trial in ("started", "running"):
        def restart() -> None:
            # The failed firmware's restarts count against the unit's start limit: without
            # reset-failed, systemd could refuse the start of the slot just rolled back to.
            subprocess.run(["systemctl", "reset-failed", "capstan.service"], check=False)
            subprocess.run(["systemctl", "restart", "--no-block", "capstan.service"],
                           check=False)
        state = trial.watch(Layout(args.root), this_boot, time.monotonic, time.sleep, restart)
        print(f"trial: {state}")
    return 0


def run_confirm(args: argparse.Namespace) -> int:
    from capstan.update.trial import confirm_healthy

    print("trial confirmed" if confirm_healthy(args.root) else "no trial to confirm")
    return 0
