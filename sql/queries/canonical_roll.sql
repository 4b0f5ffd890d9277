-- The canonical voter roll whose SHA-256 is the roll fingerprint. Do not change its shape:
-- fingerprints recorded by earlier versions would no longer verify. Dates are formatted
-- explicitly so the server's DateStyle cannot change the text.
copy (
    select
        voter_id,
        full_name,
        to_char(birth_date, 'YYYY-MM-DD') as birth_date,
        gender,
        region_id,
        to_char(registered_on, 'YYYY-MM-DD') as registered_on
    from voters
    where election_id = %(election_id)s
    order by voter_id collate "C"
) to stdout
