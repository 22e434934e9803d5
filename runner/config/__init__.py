"""The experiment's configuration: the model of an experiment, its composition by Hydra, the checks
that run before anything starts, and the JSON Schemas."""
