"""The launching command's view of SLURM jobs, without a cluster: sacct's failures said once,
submitit's error for a job that left no result recognised, a job's SLURM id read from its
environment. The real thing is tests/run/test_slurm.py."""

from __future__ import annotations

import logging

import pytest

from runner.records.provenance import slurm_job
from runner.run.cluster_jobs import SACCT_SAID_ONCE, SacctOnce, lost_job, lost_job_text

SACCT_WARNING = (
    "Call #%d - Bypassing sacct error Command '['sacct', '-o', 'JobID,State,NodeList', "
    "'--parsable2', '-j', '1']' returned non-zero exit status 1., status may be inaccurate."
)


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("submitit", logging.WARNING, __file__, 1, message, args, None)


def test_a_failing_sacct_is_said_once_in_one_line() -> None:
    said: list[str] = []
    once = SacctOnce(said.append)
    assert not once.filter(record(SACCT_WARNING, 1)) and said == [SACCT_SAID_ONCE]
    assert not once.filter(record(SACCT_WARNING, 2))
    assert not once.filter(record(SACCT_WARNING, 3))
    assert said == [SACCT_SAID_ONCE]
    other = record("Job has timed out. Ran 1 minutes out of requested 3 minutes.")
    assert once.filter(other) and "timed out" in other.getMessage()


def submitit_error(name: str, base: type[Exception] = RuntimeError) -> type[Exception]:
    """An exception class as submitit defines it (recognised by module and name, since submitit
    is optional)."""
    return type(name, (base,), {"__module__": "submitit.core.utils"})


def test_a_job_without_its_result_is_recognised() -> None:
    uncompleted = submitit_error("UncompletedJobError")
    failed = submitit_error("FailedJobError", uncompleted)
    error = uncompleted("Job 7_1 (task: 0) with path /s/.submitit/7_1/7_1_0_result.pkl\nmore")
    assert lost_job(error) and lost_job(failed("x"))
    assert not lost_job(RuntimeError("Job 7_1")) and not lost_job(submitit_error("Other")("x"))
    text = lost_job_text(error)
    assert "Job 7_1 (task: 0)" in text and "more" not in text and "\n" not in text


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLURM_JOB_ID": "13", "SLURM_ARRAY_JOB_ID": "12", "SLURM_ARRAY_TASK_ID": "1"}, "12_1"),
        ({"SLURM_JOB_ID": "13"}, "13"),
        ({}, None),
    ],
)
def test_the_slurm_job_a_run_ran_as(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert slurm_job() == expected
