"""Tests of runner.remote: hosts, protocol, agent, and the real thing over ssh."""
