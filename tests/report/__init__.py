"""Tests of runner.report: Markdown and HTML reports, number style."""
