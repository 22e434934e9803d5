"""Measuring one step: k6, the servers, the sampler, per-core accounting, step validity and
k6's ceiling."""
