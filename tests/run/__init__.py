"""Tests of runner.run: jobs, matrices, resume, progress, safety, the machine lock, interrupts, usage."""
