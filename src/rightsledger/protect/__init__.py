"""Protection of the ledger: the tamper-evident audit log (more protections build on it)."""
