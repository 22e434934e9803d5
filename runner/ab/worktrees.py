"""`--baseline-rev REV --candidate-rev REV`: each revision of the current git repository checked
out into a worktree inside the run directory, removed at the end (also after Ctrl-C or an
error: the removal runs on the way out of the context)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from runner.errors import UserError

GIT_TIMEOUT_S = 120


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UserError(f"git {' '.join(args)} failed: {error}") from None
    if done.returncode != 0:
        raise UserError(f"git {' '.join(args)} in {repo} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def repository_root(start: Path) -> Path:
    try:
        return Path(_git(start, "rev-parse", "--show-toplevel"))
    except UserError:
        raise UserError(
            f"--baseline-rev/--candidate-rev need a git repository: {start} is not inside one."
        ) from None


@contextmanager
def _worktree(repo: Path, revision: str, path: Path) -> Iterator[Path]:
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    _git(repo, "worktree", "add", "--detach", "--force", str(path), commit)
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "remove", "--force", str(path)],
            capture_output=True, timeout=GIT_TIMEOUT_S, check=False,
        )  # fmt: skip
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "prune"],
            capture_output=True, timeout=GIT_TIMEOUT_S, check=False,
        )  # fmt: skip


@contextmanager
def revision_worktrees(
    start: Path, revisions: tuple[str, str], run_dir: Path
) -> Iterator[tuple[Path, Path]]:
    """The app directories (the worktree, at `start`'s place in the repository) of the two
    revisions, baseline first; both worktrees removed on exit."""
    repo = repository_root(start)
    inside = start.resolve().relative_to(repo.resolve())
    with ExitStack() as stack:
        dirs = []
        for side, revision in zip(("baseline", "candidate"), revisions, strict=True):
            try:
                _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
            except UserError:
                raise UserError(
                    f"--{side}-rev {revision!r} is not a commit of the repository at {repo}."
                ) from None
            tree = stack.enter_context(_worktree(repo, revision, run_dir / "worktrees" / side))
            dirs.append(tree / inside)
        yield dirs[0], dirs[1]
