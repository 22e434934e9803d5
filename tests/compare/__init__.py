"""Tests of runner.compare: the regression gate on stored and real runs."""
