-- Moves an election on only from the status the caller expects; no row means it had moved.
update elections
set status = %(to_status)s, updated_at = now()
where election_id = %(election_id)s and status = %(from_status)s
returning election_id
