"""The server and the load on other hosts, reached over SSH (docs/remote.md).

Modules, in the order they build on each other:
  protocol   the JSON lines the runner and the agent exchange; samples to and from JSON
  clock      the offset between this machine's clock and a host's, NTP-style
  agent      `python -m runner.remote.agent`: runs on a host, starts and samples its server,
             runs k6, and stops everything when its SSH session ends
  agent_work what the agent does for each request (servers, sampling, k6)
  session    AgentSession: one agent over ssh, its requests, replies and streamed samples
  server     RemoteServer, remote_server: a target's server on another host, for a session
  k6_split   k6 over several hosts: one execution segment per host, raw samples brought home
  load       a step whose server or k6 runs elsewhere: load, samples on this machine's clock
  script     the k6 script archived once for k6 on another host
  hosts      RemoteHosts: the sessions of a run, opened at its start, closed at its end
  record     what the run record keeps: where everything ran and each host's clock offset
  describe   the report's and the dry run's words for it

The `hosts:` map, `targets.X.host` and `load.k6_host` (one host or a list) are part of the experiment model
(runner.config.experiment.hosts). Nothing is imported here.
"""
