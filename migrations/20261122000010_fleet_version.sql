-- What the console's fleet cache (app/src/certificates/cache.rs) compares with what it holds:
-- `edits` counts committed changes to what the overview pages show (inventory, thresholds,
-- mutes, a scan ending), `probes` counts committed batches of probe results. A row lock, not a
-- sequence, so that a reader sees a new count only together with the change it counts.
-- Writers take this lock before any row lock of theirs (BEFORE statement triggers here; a
-- scan's batch updates it first), so that they cannot deadlock one another.
create table fleet_version (
    only_row boolean primary key default true check (only_row),
    edits bigint not null default 0,
    probes bigint not null default 0
);
insert into fleet_version default values;

create function fleet_edited() returns trigger language plpgsql as $$
begin
    update fleet_version set edits = edits + 1;
    return null;
end
$$;

create trigger cluster_fleet_version before insert or update or delete or truncate on cluster
    for each statement execute function fleet_edited();
create trigger node_fleet_version before insert or update or delete or truncate on node
    for each statement execute function fleet_edited();
create trigger endpoint_fleet_version before insert or update or delete or truncate on endpoint
    for each statement execute function fleet_edited();
create trigger alert_mute_fleet_version before insert or update or delete or truncate on alert_mute
    for each statement execute function fleet_edited();
create trigger scan_fleet_version before update of state on scan
    for each statement execute function fleet_edited();

-- /metrics counts failed probes by reason on every scrape.
create index probe_failed_idx on probe (error_code) where not ok;
-- A scan's status counts its failed probes, its progress lists its latest results.
create index probe_scan_idx on probe (scan_id, id desc);
