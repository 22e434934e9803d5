"""Tests of runner.analysis: cells, verdicts, findings, significance."""
