"""Tests of runner.measure: one step, k6, servers, the sampler, CPU accounting, step validity."""
