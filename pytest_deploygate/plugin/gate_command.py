"""Whether a pytest command is a ``--gate`` command, from the tokens pytest was given.

Not from a parsed namespace: a ``--`` in PYTEST_ADDOPTS makes pytest's early parse
(``parse_known_args``) read the job's ``--gate=12`` as a file name while its full parse reads
it as the option (Python < 3.12.8), and ``--help`` stops the full parse before it. Either way
the namespace said "no gate" and the last run's PASS stayed with exit 0
(``PYTEST_ADDOPTS='--help --' pytest --gate=12``).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from pathlib import Path

import pytest

#: How deep ``@file`` arguments are followed (argparse follows them without limit).
_FILE_DEPTH = 8


def is_gate_command(config: pytest.Config) -> bool:
    """Whether any token of the command (the ini's addopts, PYTEST_ADDOPTS, the arguments
    pytest got, and the ``@file`` arguments argparse expands among them) is ``--gate`` or
    ``--gate=...``, wherever it stands, after a ``--`` too.

    Exact tokens only: pytest's parser accepts no abbreviation (``allow_abbrev=False``), and
    every abbreviation of ``--gate`` would be ambiguous anyway (``--gate-stage``, ...). A token
    such as ``-p--gate=12`` is another option's value, never the gate."""
    return any(token == "--gate" or token.startswith("--gate=")
               for token in command_tokens(config))


def command_tokens(config: pytest.Config) -> list[str]:
    """The command's tokens in the order pytest reads them (ini addopts, PYTEST_ADDOPTS,
    the arguments), ``@file`` arguments expanded as argparse does (one per line)."""
    try:
        ini = [str(arg) for arg in config.getini("addopts")]
    except (ValueError, KeyError):  # (not registered: pytest stopped before reading it)
        ini = []
    env = os.environ.get("PYTEST_ADDOPTS", "")
    try:
        env_tokens = shlex.split(env)
    except ValueError:  # (pytest stops on it too; its words are still read)
        env_tokens = env.split()
    args = [os.fspath(arg) for arg in config.invocation_params.args]
    return _expand_files([*ini, *env_tokens, *args], Path(config.invocation_params.dir), 0)


def _expand_files(tokens: Iterable[str], base: Path, depth: int) -> list[str]:
    """``@path`` tokens replaced by the lines of the file (argparse's fromfile_prefix_chars,
    which pytest sets); a file that cannot be read stays a token (pytest stops on it)."""
    expanded: list[str] = []
    for token in tokens:
        if not token.startswith("@") or depth >= _FILE_DEPTH:
            expanded.append(token)
            continue
        try:
            lines = (base / token[1:]).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError, ValueError):
            expanded.append(token)
            continue
        expanded += _expand_files(lines, base, depth + 1)
    return expanded


#: The options that say where a --gate command's records are (dest -> option).
RECORD_OPTIONS = {"gate_record_dir": "--gate-record-dir", "gate_root": "--gate-root",
                  "gate_project": "--gate-project"}


def named_values(tokens: list[str], option: str) -> list[str]:
    """Every value ``tokens`` give ``option`` (``--opt=value`` or ``--opt value``), read
    word by word: for a command pytest's parser stops on (``--gate-watch`` without its value,
    ``-n bogus``), whose namespace holds none of its options, though the job's own
    ``--gate-record-dir`` says where its last PASS is."""
    values = []
    for position, token in enumerate(tokens):
        if token.startswith(option + "="):
            values.append(token[len(option) + 1:])
        elif token == option and position + 1 < len(tokens):
            values.append(tokens[position + 1])
    return values
