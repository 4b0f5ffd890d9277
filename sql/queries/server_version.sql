-- The PostgreSQL server's version, for the health probe.
select current_setting('server_version')
