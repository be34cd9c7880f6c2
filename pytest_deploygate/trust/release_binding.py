"""Binding an approval to the release content it approved: sign-offs and waivers alike.

The release is the unit (docs/release-identity.md): a line of the attestation log or of the
waivers file approves what the commit that added it holds. An approval given before a
content change approved other content, and a line committed on a side branch of older
content does not count when that branch is merged. Bookkeeping commits (more sign-offs,
waivers, ``.isdlc/``) keep the release tree, so they keep the approvals.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.git import LineOrigin
from pytest_deploygate.evidence.release import ReleaseIdentity
from pytest_deploygate.evidence.release_trees import release_trees


@value_class(frozen=True)
class BindingWording:
    """How a refusal names the approval: ``sign-off``, "made on other release content",
    "sign off again on this release"."""

    noun: str
    other_content: str
    remedy: str


SIGN_OFF = BindingWording("sign-off", "made on other release content",
                          "sign off again on this release")
WAIVER = BindingWording("waiver", "approved for other release content",
                        "waive again on this release")


class ReleaseBinding:
    """Whether the commit that added a line holds the release being gated.

    The release tree at each such commit is asked of git once per run (per commit, project
    prefix and bookkeeping), however many criteria or lines come from that commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._trees_at: dict[tuple[str, str, tuple[str, ...]], str | None] = {}
        #: Commits whose lines will be asked about: their trees are read together.
        self._expected: list[str] = []

    def expect(self, commits: Iterable[str]) -> None:
        """Commits that added lines (to be bound later): the first binding asks git for
        all their release trees at once, in a few processes instead of one or two each."""
        self._expected.extend(commits)

    def problem(self, origin: LineOrigin, release: ReleaseIdentity,
                bookkeeping: tuple[str, ...], wording: BindingWording) -> str | None:
        """Why the line added by ``origin`` was not made on ``release`` (None when it was)."""
        if not release.known:
            return (f"the release being gated is unknown ({release.problem}), so the "
                    f"{wording.noun} cannot be bound to it")
        key = (origin.commit, release.prefix, bookkeeping)
        if key not in self._trees_at:
            wanted = [c for c in dict.fromkeys([origin.commit, *self._expected])
                      if (c, release.prefix, bookkeeping) not in self._trees_at]
            trees = release_trees(self.root, wanted, bookkeeping=bookkeeping,
                                  prefix=release.prefix, object_format=release.object_format)
            for commit, tree in trees.items():
                self._trees_at[(commit, release.prefix, bookkeeping)] = tree
        tree = self._trees_at[key]
        if tree is None:
            return (f"git cannot show the release content at commit {origin.commit[:12]}, so "
                    f"the {wording.noun} cannot be bound to the release")
        if tree != release.tree:
            assert release.tree is not None and release.commit is not None  # (known)
            return (f"{wording.other_content} (commit {origin.commit[:12]} holds tree "
                    f"{tree[:12]}; the release being gated, {release.commit[:12]}, holds "
                    f"{release.tree[:12]}): {wording.remedy}")
        return None
