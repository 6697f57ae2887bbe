"""Fail unless the virtual environment holds exactly what the lock file pins (for this Python)."""

from __future__ import annotations

import re
import sys
from importlib import metadata

from packaging.markers import Marker
from packaging.utils import canonicalize_name

# Installed by `python3 -m venv` itself or by the editable install of the project.
NOT_LOCKED = {"pip", "setuptools", "switchboard"}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]+))?")


def pinned(lock_path: str) -> dict[str, str]:
    """The name → version pins of a lock file whose markers hold on this interpreter."""
    pins: dict[str, str] = {}
    with open(lock_path, encoding="utf-8") as lock:
        for line in lock:
            match = PIN.match(line)
            if not match:
                continue
            marker = match["marker"]
            if marker and not Marker(marker.strip()).evaluate():
                continue
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def installed() -> dict[str, str]:
    found = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    return {name: version for name, version in found.items() if name not in NOT_LOCKED}


def main(lock_path: str) -> int:
    want, have = pinned(lock_path), installed()
    problems = [f"missing {name}=={v}" for name, v in sorted(want.items()) if name not in have]
    problems += [
        f"{name} is {have[name]}, the lock pins {v}"
        for name, v in sorted(want.items())
        if have.get(name, v) != v
    ]
    problems += [f"{name}=={v} is not in the lock" for name, v in sorted(have.items()) if name not in want]
    for problem in problems:
        print(f"lock mismatch: {problem}")
    if not problems:
        print(f"installed packages match {lock_path}: {len(want)} pinned")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
