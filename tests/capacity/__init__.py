"""Tests of runner.capacity: the capacity search, its settings, wiring and real runs."""
