"""Every filter driver the job's git configuration defines, switched off for one git command.

A driver's ``clean``, ``smudge`` or ``process`` command is a program of the job user's
choosing (``.git/config`` and what it includes, chosen for a file by ``.git/info/attributes``
or an uncommitted ``.gitattributes``): a clean command that hands git the committed bytes
hid a local edit from the dirty check. git has no wildcard to switch them off, so their names
are read from git and each is set to pass the bytes through unchanged.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytest_deploygate.evidence.git import git_command, git_environment


def drivers_off(root: Path) -> dict[str, str] | None:
    """Environment for a controlled git (git_environment's ``extra``) that switches off every
    filter driver the configuration at ``root`` defines, both ways (``clean`` when git hashes
    a work-tree file, ``smudge`` and ``process`` when it writes one); None when git cannot say
    which drivers there are. A switched-off driver passes the bytes through unchanged."""
    drivers = _filter_drivers(root)
    if drivers is None:
        return None
    # Set through GIT_CONFIG_COUNT (command-line scope, over every configuration file), not
    # ``-c``, which splits at the first "=": a driver's name may hold one.
    off = [(f"filter.{name}.{key}", value) for name in drivers
           for key, value in (("clean", ""), ("smudge", ""), ("process", ""),
                              ("required", "false"))]
    extra = {"GIT_CONFIG_COUNT": str(len(off))}
    for index, (key, value) in enumerate(off):
        extra[f"GIT_CONFIG_KEY_{index}"] = key
        extra[f"GIT_CONFIG_VALUE_{index}"] = value
    return extra


def _filter_drivers(root: Path) -> list[str] | None:
    """The names of the filter drivers the configuration git reads at ``root`` defines (its
    includes too); None when git cannot say."""
    try:
        done = subprocess.run(
            git_command(root, ("--no-optional-locks", "config", "-z", "--get-regexp",
                               r"^filter\..*\.")),
            capture_output=True, timeout=60, check=False, env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode == 1 and not done.stdout:
        return []  # (no driver at all)
    if done.returncode != 0:
        return None
    names: dict[str, None] = {}
    for entry in done.stdout.split(b"\0"):
        key = entry.partition(b"\n")[0].decode("utf-8", "surrogateescape")
        # filter.<name>.<key>: the name is everything between the first and the last dot.
        if key.count(".") >= 2:
            names[key[key.index(".") + 1:key.rindex(".")]] = None
    return list(names)
