"""The records a run leaves: result types, the run directory's store, migrations of older
schemas, provenance and redaction."""
