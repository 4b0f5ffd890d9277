update elections
set registrations_updated_at = clock_timestamp(), updated_at = now()
where election_id = %(election_id)s
