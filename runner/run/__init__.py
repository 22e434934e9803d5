"""Running a sweep: the Hydra job, the plan's order of steps, the server pool, the machine lock,
interrupts, the live view and the run directory."""
