"""Tests of the bench/ scripts that can be checked without load."""
