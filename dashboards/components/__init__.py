"""Pure functions from query results to figures and page pieces (unit-tested without a server)."""
