"""The one environment for tests that start `python -m voicemood` in a child process."""

from __future__ import annotations

import os
from pathlib import Path

# This checkout, so the child runs the code under test whichever copy is installed.
ROOT = Path(__file__).resolve().parent.parent


def voicemood_env(*, inherit: bool = True, **settings: str) -> dict[str, str]:
    """The parent's environment without its VOICEMOOD_ settings, plus `settings`.

    `inherit=False` starts from nothing but a plain PATH instead (a child that must not depend on
    anything of the caller's). Either way this checkout comes first on PYTHONPATH.
    """
    if inherit:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEMOOD_")}
    else:
        env = {"PATH": "/usr/bin:/bin"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(settings)
    return env
