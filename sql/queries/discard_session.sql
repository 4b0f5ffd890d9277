-- A connection going back to the pool forgets its session: settings, prepared statements,
-- temporary tables and advisory locks (as if it had closed).
discard all
