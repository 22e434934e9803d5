"""Tests of runner.config: composition, the experiment model, schemas, bad input on the command line."""
