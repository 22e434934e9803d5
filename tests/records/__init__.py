"""Tests of runner.records: stored runs, older schemas, provenance, host kinds."""
