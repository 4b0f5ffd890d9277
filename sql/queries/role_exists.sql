-- Whether the server has a role of this name.
select 1
from pg_roles
where rolname = %(role)s
