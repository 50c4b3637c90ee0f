"""Core: what every layer above may use and that knows nothing of them (money, brand-local
time, the SQL dialect seam, locks, and the way out to other machines)."""
