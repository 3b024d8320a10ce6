"""Dutch full-text search on the database's own engine: SQLite FTS5 and PostgreSQL's
`dutch` text-search configuration, behind one interface (`PracticeIndex`)."""
