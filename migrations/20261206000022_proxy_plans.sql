-- A pair's configuration is reconciled like any other change: a plan says, per instance, what
-- it serves now and what it will serve (every setting that changes); an admin confirms it; the
-- instances are told; the plan is applied only when both report the new version in force,
-- failed with the instance's words when one refuses it or stays silent. Drift: an instance
-- that serves another version than the one it was told.
create table proxy_plan (
    id bigint generated always as identity primary key,
    pair_id bigint not null references proxy_pair (id) on delete cascade,
    -- the configuration version it makes the instances serve
    version bigint not null,
    state text not null check (state in ('ready', 'applying', 'applied', 'failed', 'superseded')),
    -- per instance: domain::proxies::PlanInstance (what changes, and how verification ended)
    instances jsonb not null,
    created_by text not null,
    created_at timestamptz not null default now(),
    confirmed_by text,
    confirmed_at timestamptz,
    finished_at timestamptz,
    error text,
    foreign key (pair_id, version) references proxy_config (pair_id, version) on delete cascade
);
create index proxy_plan_pair_idx on proxy_plan (pair_id, id desc);

-- What differs per instance is part of a version too ({"a": patch, "b": patch}): an overlay
-- changed in the pair's settings reaches an instance only with a plan applied.
alter table proxy_config add column overlays jsonb not null default '{}';
update proxy_config c set overlays = coalesce(
    (select jsonb_object_agg(i.side, i.overlay) from proxy_instance i where i.pair_id = c.pair_id),
    '{}');
