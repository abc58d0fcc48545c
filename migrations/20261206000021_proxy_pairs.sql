-- gatehouse-proxy pairs: two engine instances in the DMZ routing by one published proxy map.
-- The console makes each configuration version from the pair's settings, the map and the
-- trust it knows; an instance pulls the version it is told to serve with its own token and
-- reports what it serves (sessions, bans, health) back.
create table proxy_pair (
    id bigint generated always as identity primary key,
    name text not null constraint proxy_pair_name_key unique,
    -- the map whose published version gives the routes
    map_id bigint not null references proxy_map (id) on delete restrict,
    -- what an admin set beyond the map (a proxyconf document without routes, trust or map)
    settings jsonb not null,
    created_at timestamptz not null default now()
);

-- Every configuration document made for a pair, whole (the document holds no secret: the
-- engine's keys stay on its host).
create table proxy_config (
    pair_id bigint not null references proxy_pair (id) on delete cascade,
    version bigint not null check (version >= 1),
    document jsonb not null,
    made_by text not null,
    made_at timestamptz not null default now(),
    primary key (pair_id, version)
);

create table proxy_instance (
    id bigint generated always as identity primary key,
    pair_id bigint not null references proxy_pair (id) on delete cascade,
    side text not null check (side in ('a', 'b')),
    name text not null,
    -- what differs for this instance (its listen addresses, its client certificate, its source
    -- address): a JSON merge patch (RFC 7386) over the pair's document
    overlay jsonb not null default '{}',
    -- SHA-256 of the instance's token (shown once); null: none issued, or revoked
    token_hash bytea constraint proxy_instance_token_key unique,
    token_hint text,
    -- the configuration version this instance is told to serve (0: none yet)
    published bigint not null default 0,
    -- its last report (proxyconf::Report) and when it came
    report jsonb,
    reported_at timestamptz,
    constraint proxy_instance_side_key unique (pair_id, side)
);

-- Orders for an instance (bans and lifts an admin decided), taken with its next pull.
create table proxy_command (
    id bigint generated always as identity primary key,
    instance_id bigint not null references proxy_instance (id) on delete cascade,
    command jsonb not null,
    made_at timestamptz not null default now()
);
create index proxy_command_instance_idx on proxy_command (instance_id, id);
