"""Release check: the wheel and sdist carry the built panel (peers have shipped wheels without
their JS), and nothing that must stay out of a release (the bundle's sources map, secrets)."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

REQUIRED_IN_WHEEL = ("twilio_widget/static/widget.js", "twilio_widget/static/widget.css")


def check(dist: Path) -> list[str]:
    problems: list[str] = []
    wheels = list(dist.glob("*.whl"))
    sdists = list(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        return [f"expected one wheel and one sdist in {dist}, found {wheels + sdists}"]
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for required in REQUIRED_IN_WHEEL:
        if required not in names:
            problems.append(f"{wheels[0].name} lacks {required}")
    bundle = zipfile.ZipFile(wheels[0]).read(REQUIRED_IN_WHEEL[0]) if not problems else b""
    if bundle and len(bundle) < 1000:
        problems.append(f"{REQUIRED_IN_WHEEL[0]} is only {len(bundle)} bytes")
    with tarfile.open(sdists[0]) as sdist:
        members = [m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name]
    for required in REQUIRED_IN_WHEEL:
        if required not in members:
            problems.append(f"{sdists[0].name} lacks {required}")
    if any("node_modules" in m for m in members):
        problems.append(f"{sdists[0].name} carries node_modules")
    return problems


if __name__ == "__main__":
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else "dist")
    problems = check(dist)
    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        sys.exit(1)
    print(f"wheel and sdist in {dist} carry the panel's JS and CSS")
