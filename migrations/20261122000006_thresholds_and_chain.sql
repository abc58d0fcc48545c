-- Expiry thresholds overridable per cluster and per node (null: inherit; the defaults are
-- warning 30 days, critical 14 days, warning under 20% of the lifetime left).
alter table cluster
    add column warning_days integer check (warning_days between 1 and 3650),
    add column critical_days integer check (critical_days between 0 and 3650),
    add column warning_lifetime_percent integer check (warning_lifetime_percent between 0 and 100);
alter table node
    add column warning_days integer check (warning_days between 1 and 3650),
    add column critical_days integer check (critical_days between 0 and 3650),
    add column warning_lifetime_percent integer check (warning_lifetime_percent between 0 and 100);

-- Whether a probe's served chain reaches a trusted anchor is judged once, when the probe is
-- recorded (it does not change with time): null when it does, else why not.
alter table probe add column chain_incomplete text;

-- The nodes a scan was asked for; null for the whole fleet.
alter table scan add column node_ids bigint[];
