-- The canonical voter roll whose SHA-256 is the roll fingerprint. Do not change its shape:
-- fingerprints recorded by earlier versions would no longer verify. Dates are formatted
-- explicitly so the server's DateStyle cannot change the text. The 7th field, the voter's
-- party, is part of the canonical text only when it is not null: the reader drops a null
-- one (\N) from the line before hashing (tallyflow.registrations.roll.roll_fingerprint),
-- so a roll without party affiliations has the fingerprint it always had.
copy (
    select
        voter_id,
        full_name,
        to_char(birth_date, 'YYYY-MM-DD') as birth_date,
        gender,
        region_id,
        to_char(registered_on, 'YYYY-MM-DD') as registered_on,
        party_id
    from voters
    where election_id = %(election_id)s
    order by voter_id collate "C"
) to stdout
