"""Three "hosts" inside this machine: network namespaces joined by veth pairs, each with its own
sshd on its own address, reached with a throwaway key. For tests/remote/test_remote_hosts.py.

    client namespace  10.77.0.1/24  <-- veth -->  10.77.0.2/24  server namespace
                      10.78.0.1/24  <-- veth -->  10.78.0.3/24  second client namespace

The client namespace routes between the other two (the second client's k6 reaches the server
through it), so cutting the server's pair cuts the server off from both.

Everything is made under unique names and removed on the way out, failures included: the sshd
processes are killed, every process left in a namespace too, and the namespaces deleted (which
deletes the veth pair). All traffic stays inside these namespaces.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
CLIENT_ADDRESS, SERVER_ADDRESS = "10.77.0.1", "10.77.0.2"
CLIENT2_GATEWAY, CLIENT2_ADDRESS = "10.78.0.1", "10.78.0.3"
SSHD_READY_S = 15


def why_not_available() -> str | None:
    """Why these hosts cannot be made here; None when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, sshd); CI runs as root"
    if shutil.which("ip") is None or _run(["ip", "netns", "list"], check=False).returncode:
        return "`ip netns` is not available"
    if not SSHD.exists() or shutil.which("ssh-keygen") is None:
        return "openssh-server is not installed (.ci/run installs it)"
    return None


@dataclass(frozen=True)
class NamespaceHosts:
    client_ns: str
    server_ns: str
    ssh_config: Path  # `ssh -F` this: the key, the known host keys, user root
    sshd_pids: frozenset[int]
    server_link: str = ""  # the veth pair's end in the server namespace
    client2_ns: str = ""  # a second client, routed to the server through the first

    def set_server_link(self, up: bool) -> None:
        """Cut the server namespace off (its end of the pair down: no carrier at either end),
        or join it again."""
        state = "up" if up else "down"
        _run(["ip", "-n", self.server_ns, "link", "set", self.server_link, state])

    def pids(self, namespace: str) -> set[int]:
        """Processes in the namespace (`ip netns pids`), its sshd listener included."""
        found = _run(["ip", "netns", "pids", namespace], check=False).stdout.split()
        return {int(pid) for pid in found}

    def leftovers(self, namespace: str) -> set[int]:
        """Processes in the namespace other than its sshd listener."""
        return {pid for pid in self.pids(namespace) if pid not in self.sshd_pids}


@contextlib.contextmanager
def namespace_hosts(work_dir: Path) -> Iterator[NamespaceHosts]:
    tag = f"sb{os.getpid() % 100000}"
    client_ns, server_ns, client2_ns = f"{tag}c", f"{tag}s", f"{tag}d"
    with contextlib.ExitStack() as cleanup:
        for namespace in (client_ns, server_ns, client2_ns):
            _run(["ip", "netns", "add", namespace])
            cleanup.callback(_remove_namespace, namespace)
        _link((client_ns, f"{tag}vc", CLIENT_ADDRESS), (server_ns, f"{tag}vs", SERVER_ADDRESS))
        _link((client_ns, f"{tag}wc", CLIENT2_GATEWAY), (client2_ns, f"{tag}wd", CLIENT2_ADDRESS))
        _route(client_ns, server_ns, client2_ns)
        config = _keys_and_config(work_dir)
        listeners = (
            (client_ns, CLIENT_ADDRESS),
            (server_ns, SERVER_ADDRESS),
            (client2_ns, CLIENT2_ADDRESS),
        )
        sshd = [_start_sshd(cleanup, work_dir, ns, address) for ns, address in listeners]
        pids = frozenset(p.pid for p in sshd)
        hosts = NamespaceHosts(client_ns, server_ns, config, pids, f"{tag}vs", client2_ns)
        for _namespace, address in listeners:
            _wait_for_sshd(hosts, address)
        yield hosts


def _run(command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=30)


def _link(one: tuple[str, str, str], other: tuple[str, str, str]) -> None:
    """A veth pair between two namespaces, each end (namespace, device, address) up."""
    _run(["ip", "link", "add", one[1], "type", "veth", "peer", "name", other[1]])
    for namespace, end, address in (one, other):
        _run(["ip", "link", "set", end, "netns", namespace])
        _run(["ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", end])
        _run(["ip", "-n", namespace, "link", "set", end, "up"])
        _run(["ip", "-n", namespace, "link", "set", "lo", "up"])


def _route(client_ns: str, server_ns: str, client2_ns: str) -> None:
    """The client namespace forwards between the server and the second client."""
    _run(["ip", "netns", "exec", client_ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
    _run(["ip", "-n", client2_ns, "route", "add", "default", "via", CLIENT2_GATEWAY])
    _run(["ip", "-n", server_ns, "route", "add", "10.78.0.0/24", "via", CLIENT_ADDRESS])


def _keys_and_config(work_dir: Path) -> Path:
    """A client key, a host key both sshds use, and an ssh config that trusts only that."""
    for name in ("id", "host_key"):
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work_dir / name)])
    shutil.copy(work_dir / "id.pub", work_dir / "authorized_keys")
    host_key = (work_dir / "host_key.pub").read_text().split()[:2]
    known = f"{CLIENT_ADDRESS},{SERVER_ADDRESS},{CLIENT2_ADDRESS} {' '.join(host_key)}\n"
    (work_dir / "known_hosts").write_text(known)
    config = work_dir / "ssh_config"
    config.write_text(
        "Host *\n"
        "  User root\n"
        f"  IdentityFile {work_dir / 'id'}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {work_dir / 'known_hosts'}\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
    )
    return config


def _start_sshd(
    cleanup: contextlib.ExitStack, work_dir: Path, namespace: str, address: str
) -> subprocess.Popen[bytes]:
    config = work_dir / f"sshd_config_{namespace}"
    config.write_text(
        f"ListenAddress {address}\n"
        f"HostKey {work_dir / 'host_key'}\n"
        f"AuthorizedKeysFile {work_dir / 'authorized_keys'}\n"
        f"PidFile {work_dir / f'sshd_{namespace}.pid'}\n"
        "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nLogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    log = (work_dir / f"sshd_{namespace}.log").open("wb")
    cleanup.callback(log.close)
    sshd = subprocess.Popen(
        ["ip", "netns", "exec", namespace, str(SSHD), "-D", "-e", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    cleanup.callback(_stop, sshd)
    return sshd


def _wait_for_sshd(hosts: NamespaceHosts, address: str) -> None:
    """sshd takes a moment to listen: try a login until one works."""
    deadline = time.monotonic() + SSHD_READY_S
    command = ["ip", "netns", "exec", hosts.client_ns, "ssh", "-F", str(hosts.ssh_config)]
    command += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=2", address, "true"]
    while True:
        attempt = _run(command, check=False)
        if attempt.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"sshd on {address} did not let us in: {attempt.stderr.strip()}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _remove_namespace(namespace: str) -> None:
    """Kill whatever a failed test left in the namespace, then delete it (and its veth end)."""
    for pid in _run(["ip", "netns", "pids", namespace], check=False).stdout.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    _run(["ip", "netns", "del", namespace], check=False)
