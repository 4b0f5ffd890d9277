-- One migration applied.
insert into schema_migrations (version, name, checksum)
values (%(version)s, %(name)s, %(checksum)s)
