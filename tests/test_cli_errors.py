"""Bad input on the command line: one clear message, exit status 2, no traceback, nothing started."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli, server_like_processes


def assert_clean_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_typo_in_override_names_the_key(tmp_path: Path) -> None:
    result = run_cli("+experiment=quickstart", "+load.duratoin=1s", f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, "'load.duratoin' is not a known key")
    assert not (tmp_path / "results.jsonl").exists()
    assert not server_like_processes()


def test_typo_without_plus_is_bad_input_too(tmp_path: Path) -> None:
    result = run_cli("+experiment=quickstart", "load.duratoin=1s", f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, "load.duratoin")


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    result = run_cli("+experiment=quickstart", "load.duration=-1s", f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, "load.duration")


def test_unknown_experiment_lists_known_ones() -> None:
    result = run_cli("+experiment=no_such_thing")
    assert_clean_error(result, "Unknown experiment 'no_such_thing'", "quickstart")


def test_no_experiment_chosen() -> None:
    result = run_cli()
    assert_clean_error(result, "No experiment chosen", "quickstart")


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    experiment_dir = tmp_path / "experiment"
    experiment_dir.mkdir()
    (experiment_dir / "broken.yaml").write_text("name: broken\nload: [unclosed\n")
    result = run_cli("--config-dir", str(tmp_path), "+experiment=broken")
    assert_clean_error(result, "Malformed YAML", "broken.yaml", "line")
