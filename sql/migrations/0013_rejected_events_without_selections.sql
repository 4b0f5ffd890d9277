-- A rejected event keeps its credential's SHA-256 and no selections (tallyflow/votes/
-- secrecy.py does this for new ones); redact the events kept before.
do $$
declare
    row record;
    event jsonb;
    kept jsonb;
begin
    for row in select ctid, raw_payload from rejected_events where raw_payload is not null loop
        begin
            event := convert_from(row.raw_payload, 'UTF8')::jsonb;
        exception when others then
            event := null;
        end;
        if jsonb_typeof(event) = 'object' then
            kept := event - 'credential' - 'contests';
            if jsonb_typeof(event -> 'credential') = 'string' then
                kept := kept || jsonb_build_object('credential_sha256', encode(
                    sha256(convert_to(event ->> 'credential', 'UTF8')), 'hex'));
            elsif event ? 'credential' then
                kept := kept || '{"credential": "[removed]"}'::jsonb;
            end if;
            if event ? 'contests' then
                kept := kept || jsonb_build_object(
                    'contests', '[removed: a rejected ballot keeps no selections]');
            end if;
            update rejected_events
            set raw_payload = convert_to(regexp_replace(
                kept::text, '(^|[^0-9A-Fa-f])[0-9A-Fa-f]{32}([^0-9A-Fa-f]|$)',
                '\1[credential removed]\2', 'g'), 'UTF8')
            where ctid = row.ctid;
        else
            update rejected_events
            set raw_payload = decode(regexp_replace(
                encode(row.raw_payload, 'escape'),
                '(^|[^0-9A-Fa-f])[0-9A-Fa-f]{32}([^0-9A-Fa-f]|$)',
                '\1[credential removed]\2', 'g'), 'escape')
            where ctid = row.ctid;
        end if;
    end loop;
end;
$$;
