"""Which key signs a gate run and which signers a post stage accepts, from options and env.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

KEY_ENV = "DEPLOYGATE_SIGNING_KEY"


def add_signing_options(group: Any) -> None:
    """``--gate-sign-key`` and ``--gate-allowed-signers`` in the deploygate option group."""
    group.addoption("--gate-sign-key", metavar="PATH", default=None,
                    help=f"Sign each record: write GATE-NN[-stage].intoto.json, an in-toto "
                         f"attestation in a DSSE envelope (OpenSSH or PEM Ed25519 or ECDSA "
                         f"P-256 private key; default: ${KEY_ENV}).")
    group.addoption("--gate-allowed-signers", metavar="FILE", default=None,
                    help="Post stage: accept the pre stage only through an attestation signed "
                         "by a key of this git allowed-signers file (default: deploygate.yaml "
                         "signing.allowed_signers, else the signing key's public half).")


def signing_paths(config: Any) -> tuple[Path | None, Path | None]:
    """(signing key, allowed-signers file) as paths; a replay that would sign is refused.

    Raises ``pytest.UsageError``: signing a replay (``--gate-now``) would attest to a decision
    about the past with today's key, which is exactly what a forger wants.
    """
    import pytest

    key = config.getoption("gate_sign_key") or os.environ.get(KEY_ENV) or None
    allowed = config.getoption("gate_allowed_signers") or None
    if key and config.getoption("gate_now"):
        source = "--gate-sign-key" if config.getoption("gate_sign_key") else f"${KEY_ENV}"
        raise pytest.UsageError(f"deploygate: {source}: a replay (--gate-now) is never signed; "
                                f"drop --gate-now or unset {source}")
    return (_absolute(key), _absolute(allowed))


def _absolute(value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def repository_code_problem(config: Any, root: Path) -> str | None:
    """Why code of the repository could run in this process, which holds the signing key and
    decides what it signs; None when nothing in the checkout is imported.

    A conftest.py, a collected test module or doctest, or a module found first on sys.path
    (``python -m pytest`` puts the current folder there, a ``pythonpath`` ini setting puts
    its folders) runs inside the gate: it can rewrite any outcome before the record is signed,
    so a merge request adding one made a signed PASS of a failing gate. The check runs before
    collection; a conftest.py has run by then, which is why --noconftest is asked for.
    """
    import sys

    if not config.getoption("noconftest", False):
        return ("conftest.py files of the repository would run in the signing process: add "
                "--noconftest")
    if not config.pluginmanager.is_blocked("python"):
        return ("test modules of the repository would be imported in the signing process "
                "(a @pytest.mark.gate test cannot be part of a signed gate): add -p no:python")
    if config.getoption("doctestmodules", False):
        return "--doctest-modules imports the repository's modules: drop it when signing"
    if config.getoption("gate_allow_commands", False):
        # A command criterion's program runs as the job user beside the key (readable in this
        # process's /proc/PID/environ or the key file), and a `git diff` it runs starts the
        # programs of the job's git configuration (rt17b A03): the plugin's own git switches
        # those off, a command's git does not.
        return ("--gate-allow-commands runs the spec's commands as the job user beside the "
                "signing key, and what they start (the job's git configuration too) could "
                "read it: sign in a run without it, and run command criteria in a run of their "
                "own, unsigned")
    # Doctests of text files (test*.txt, --doctest-glob) run under -p no:python too; no
    # Python criterion can be part of a signed gate, so the doctest plugin takes no part.
    config.pluginmanager.set_blocked("doctest")
    project = root.resolve()
    from pytest_deploygate.core.checkout_code import installed_folders

    installed = installed_folders()
    for entry in sys.path:
        try:
            folder = Path(entry or os.getcwd()).resolve()
        except (OSError, RuntimeError):
            continue
        if folder.is_relative_to(project) and \
                not any(folder.is_relative_to(place) for place in installed):
            return (f"sys.path holds {entry or '(the current folder)'}, inside the project, so "
                    "a module of the repository would be imported in place of an installed "
                    "one: run the pytest script (or python -P -m pytest) and set no "
                    "pythonpath ini option")
    return _imported_problem(config, project) or _other_plugins_problem(config)


def _imported_problem(config: Any, project: Path) -> str | None:
    """A module of the checkout already imported or registered as a plugin: ``-p NAME`` and
    PYTEST_PLUGINS are imported before this check runs, and such a module can take its own
    folder off sys.path, so what sys.path holds now is not enough."""
    from pytest_deploygate.core.checkout_code import imported_from

    found = imported_from(project, [(str(name), plugin) for name, plugin
                                    in config.pluginmanager.list_name_plugin()])
    if found is None:
        return None
    name, where = found
    return (f"module {name} was imported from {where} in the project (a -p option, "
            "PYTEST_PLUGINS or PYTHONPATH named it): run with no plugin of the "
            "repository, PYTEST_PLUGINS and PYTHONPATH unset (python -E)")


#: Plugin code allowed in a signing run besides pytest's own and this package's: xdist's
#: installed code may be loaded (autoload), as long as the run is not distributed
#: (:func:`distribution_problem`).
_SIGNING_RUN_PACKAGES = ("_pytest", "pytest", "pluggy", "pytest_deploygate", "xdist")


def _other_plugins_problem(config: Any) -> str | None:
    """Another installed plugin loaded into the signing process (pytest's autoload of every
    installed plugin, PYTEST_PLUGINS, ``-p NAME``). Its code runs beside the key: one that
    runs git in the job's repository (pytest-benchmark's ``git describe --dirty``) runs the
    job's git configuration, which on a kept workspace copied the key (rt16b A01). The
    plugin's own git switches that configuration off; another plugin's does not."""
    others: list[str] = []
    for name, plugin in config.pluginmanager.list_name_plugin():
        if plugin is None:  # blocked (-p no:NAME)
            continue
        module = getattr(plugin, "__name__", None) if isinstance(plugin, type(os)) else \
            type(plugin).__module__
        top = str(module or "").partition(".")[0]
        if top not in _SIGNING_RUN_PACKAGES:
            others.append(f"{name} ({module})")
    if not others:
        return None
    which = "plugins" if len(others) > 1 else "plugin"
    return (f"{which} {', '.join(sorted(others))} would run in the signing process, which "
            "holds the key: sign with only this plugin loaded (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "
            "and -p pytest_deploygate.plugin, or -p no:NAME for each; PYTEST_PLUGINS unset)")


def distribution_problem(config: Any) -> str | None:
    """Why this signing run would start pytest-xdist worker processes; None when it would not.

    Every worker runs beside the key, and none is this interpreter as started: ``-n NUM``
    and ``--tx popen`` start ``python -u -c ...`` without the recipes' ``-I``, so
    PYTHONPATH's ``sitecustomize`` or a user-site ``.pth`` ran in each worker (rt17d A03);
    ``--tx popen//python=X`` and ``--px`` specs start a program of the job's choosing (rt17c
    A06, rt17d A02); ``--looponfail`` runs the whole session in such a worker. A signed gate
    gains nothing from distribution, so a signing run starts none. Read from the options as
    given, before xdist turns ``-n`` into ``--tx`` and before looponfail starts its worker.
    """
    option = config.option
    asked = [flag for flag, given in (
        (f"-n {getattr(option, 'numprocesses', None)}",
         getattr(option, "numprocesses", None) not in (None, 0, "0")),
        ("-d", bool(getattr(option, "distload", False))),
        (f"--dist {getattr(option, 'dist', 'no')}",
         getattr(option, "dist", "no") not in (None, "no")),
        ("--tx", bool(getattr(option, "tx", None))),
        ("--px", bool(getattr(option, "px", None))),
        ("--looponfail", bool(getattr(option, "looponfail", False))),
    ) if given]
    if not asked:
        return None
    return (f"{asked[0]} (pytest-xdist) would start worker processes beside the signing key, "
            "without this interpreter's isolation (-I) and possibly another program: sign in "
            "one process (drop -n, --dist, --tx, --px and --looponfail, or -p no:xdist)")


def borrowed_options_problem(config: Any) -> str | None:
    """Why options of this signing run come from elsewhere than its own command line; None
    when they do not.

    ``PYTEST_ADDOPTS`` is the job's environment and the ini's ``addopts`` the repository's
    file: options there are anyone's, and some import a module by name at a moment no check
    comes after (``--pdb --pdbcls=antigravity:X`` imported ``antigravity`` on the first
    failing criterion, which ran ``$BROWSER`` beside the key: rt18a B01). The job's own
    command line is trusted; a signing run takes its options from it alone, as the recipes'
    runs do (``env -u PYTEST_ADDOPTS``, ``-o addopts=``). What such options load while pytest
    starts has run by now: the refusal keeps the run from signing and names the fix.
    """
    import shlex

    sources = []
    value = os.environ.get("PYTEST_ADDOPTS", "")
    try:
        # (Split as pytest splits it: "\x1f" is blank to str.strip() and a test path to
        # pytest, which moved the gate's root: rt18b A04.)
        given = bool(shlex.split(value))
    except ValueError:
        given = True
    if given:
        sources.append("PYTEST_ADDOPTS")
    if config.getini("addopts"):
        sources.append(f"the addopts of {config.inipath or 'the ini file'}")
    if not sources:
        return None
    return (f"options from {' and '.join(sources)} would take part in the signing run, and "
            "what they name runs beside the key: sign with the command line's options alone "
            "(unset PYTEST_ADDOPTS, add -o addopts=)")
