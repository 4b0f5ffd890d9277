insert into quarantined_registrations (election_id, source_name, line_number, raw_row, reason)
values %s
