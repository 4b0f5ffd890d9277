-- The migrations applied so far and the checksum of each file when it ran.
select
    version,
    checksum
from schema_migrations
