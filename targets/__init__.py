"""Applications under test. Every target serves the same endpoints with the same bodies."""
