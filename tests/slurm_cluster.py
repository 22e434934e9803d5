"""A one-node SLURM cluster on this machine, for tests/run/test_slurm.py: Debian's `munge` and
`slurm-wlm`, each daemon in the foreground with everything it writes in a temporary directory.

    munged     its own key and socket (slurm.conf's AuthInfo points SLURM at that socket)
    slurmctld  the controller, on a free port of 127.0.0.1
    slurmd     this machine as the one node, named after its hostname, with its cores

Clients (sbatch, squeue, scancel, sacct, and submitit calling them) find the cluster through
`SLURM_CONF`, which `SlurmCluster.env` sets. Accounting is off (no slurmdbd): `sacct` then
fails, which is what runner.run.slurm_polls quiets. Everything is stopped on the way out,
failures included, with any job still known to the cluster cancelled first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

MUNGEKEY = Path("/usr/sbin/mungekey")
DAEMONS = {
    "munged": Path("/usr/sbin/munged"),
    "slurmctld": Path("/usr/sbin/slurmctld"),
    "slurmd": Path("/usr/sbin/slurmd"),
}
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo")
READY_S = 30
STOP_S = 10


def why_not_available() -> str | None:
    """Why the cluster cannot be made here; None when it can."""
    if os.geteuid() != 0:
        return "needs root (slurmd runs jobs as their user); CI runs as root"
    missing = [str(path) for path in DAEMONS.values() if not path.exists()]
    missing += [name for name in CLIENTS if shutil.which(name) is None]
    missing += [] if MUNGEKEY.exists() else [str(MUNGEKEY)]
    if missing:
        return (
            f"SLURM is not installed ({', '.join(missing)} missing; "
            "Debian's slurm-wlm and munge; .ci/run installs them)"
        )
    return None


@dataclass(frozen=True)
class SlurmCluster:
    directory: Path
    conf: Path
    partition: str
    node: str

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to find this cluster."""
        return {"SLURM_CONF": str(self.conf)}

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **self.env},
            check=False,
        )

    def jobs(self) -> list[str]:
        """The ids of every job the cluster still knows (pending, running or completing)."""
        listed = self.run("squeue", "--noheader", "--format=%i")
        return [line.strip() for line in listed.stdout.splitlines() if line.strip()]

    def logs(self) -> str:
        """The daemons' logs, for a failing test's output."""
        texts = []
        for name in ("munged", "slurmctld", "slurmd"):
            path = self.directory / f"{name}.log"
            if path.exists():
                texts.append(f"--- {name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(texts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def slurm_conf(directory: Path, node: str, cores: int, munge_socket: Path) -> str:
    """The smallest configuration that schedules jobs on this machine: no cgroups (processes
    tracked by their parents), no accounting, short timers so a test does not wait on them."""
    return f"""\
ClusterName=sweepbench
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={directory / "state"}
SlurmdSpoolDir={directory / "spool"}
SlurmctldPidFile={directory / "slurmctld.pid"}
SlurmdPidFile={directory / "slurmd.pid"}
SlurmctldLogFile={directory / "slurmctld.log"}
SlurmdLogFile={directory / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MinJobAge=60
SchedulerParameters=sched_interval=1
NodeName={node} NodeAddr=127.0.0.1 CPUs={cores} State=UNKNOWN
PartitionName=bench Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


@contextlib.contextmanager
def slurm_cluster(directory: Path) -> Iterator[SlurmCluster]:
    node = socket.gethostname().split(".")[0]
    for sub in ("state", "spool"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    munge_socket = directory / "munge.socket"
    conf = directory / "slurm.conf"
    conf.write_text(slurm_conf(directory, node, os.cpu_count() or 1, munge_socket))
    cluster = SlurmCluster(directory, conf, "bench", node)
    with contextlib.ExitStack() as cleanup:
        key = directory / "munge.key"
        _run([str(MUNGEKEY), "--create", f"--keyfile={key}"])
        _start(
            cleanup,
            directory,
            "munged",
            [
                "--foreground",
                "--force",
                f"--socket={munge_socket}",
                f"--key-file={key}",
                f"--pid-file={directory / 'munged.pid'}",
                f"--seed-file={directory / 'munged.seed'}",
                f"--log-file={directory / 'munged.log'}",
            ],
        )
        _wait_for(lambda: munge_socket.exists(), "munged made no socket", cluster)
        env = {**os.environ, **cluster.env}
        _start(cleanup, directory, "slurmctld", ["-D", "-i", "-f", str(conf)], env)
        _start(cleanup, directory, "slurmd", ["-D", "-N", node, "-f", str(conf)], env)
        cleanup.callback(_cancel_all, cluster)
        _wait_for(lambda: _node_idle(cluster), "the node never became idle", cluster)
        yield cluster


def _run(command: list[str]) -> None:
    subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)


def _start(
    cleanup: contextlib.ExitStack,
    directory: Path,
    name: str,
    args: list[str],
    env: dict[str, str] | None = None,
) -> None:
    output = (directory / f"{name}.out").open("wb")
    cleanup.callback(output.close)
    process = subprocess.Popen(
        [str(DAEMONS[name]), *args],
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        env=env,
    )
    cleanup.callback(_stop, process)


def _node_idle(cluster: SlurmCluster) -> bool:
    listed = cluster.run("sinfo", "--noheader", "--format=%t", "--nodes", cluster.node)
    return listed.returncode == 0 and listed.stdout.strip() == "idle"


def _wait_for(ready: Callable[[], bool], failure: str, cluster: SlurmCluster) -> None:
    deadline = time.monotonic() + READY_S
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{failure} within {READY_S} s:\n{cluster.logs()}")
        time.sleep(0.2)


def _cancel_all(cluster: SlurmCluster) -> None:
    """Jobs still known are cancelled, and waited for, before the daemons stop."""
    jobs = cluster.jobs()
    if not jobs:
        return
    cluster.run("scancel", *jobs)
    deadline = time.monotonic() + STOP_S * 2
    while cluster.jobs() and time.monotonic() < deadline:
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
