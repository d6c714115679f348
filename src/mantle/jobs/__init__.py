"""Background work: a job table in the database, claimed under a lease by workers.

The embedded deployment runs one worker thread inside the server; production runs
`mantle worker` processes, as many as wanted. Workers coordinate only through the `jobs`
table: a job is claimed with a conditional UPDATE (portable across SQLite and PostgreSQL),
kept alive by heartbeats that also save its progress and checkpoint, and picked up again by
another worker when its lease expires (a crashed worker resumes from the last checkpoint).
"""
