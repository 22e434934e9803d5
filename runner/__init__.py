"""sweepbench: a declarative, YAML-driven benchmark runner for Python web servers."""
