-- Whether the server has a database of this name.
select 1
from pg_database
where datname = %(database)s
