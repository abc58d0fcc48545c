-- Proxy maps (proxymap.txt): every saved version of each map, the one published (served to the
-- nodes at /maps/<slug>/proxymap.txt), and the nodes' fetches of it.

create table proxy_map (
    id bigint generated always as identity primary key,
    name text not null constraint proxy_map_name_key unique,
    -- the served file's path: /maps/<slug>/proxymap.txt
    slug text not null constraint proxy_map_slug_key unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    -- the cluster the map is checked against and rolled out to (none: checked alone)
    cluster_id bigint references cluster (id) on delete set null,
    -- the version the nodes are served; null: nothing published yet (drafts are never served)
    published_version integer,
    published_by text,
    published_at timestamptz,
    created_at timestamptz not null default now()
);

-- Every saved version is kept; the highest is the latest draft (it may be the published one).
create table proxy_map_version (
    map_id bigint not null references proxy_map (id) on delete cascade,
    version integer not null check (version >= 1),
    -- the text as the admin wrote it (comments included; the served file is rendered from it)
    text text not null,
    author text not null,
    comment text not null default '',
    created_at timestamptz not null default now(),
    primary key (map_id, version)
);

alter table proxy_map add constraint proxy_map_published_fkey
    foreign key (id, published_version) references proxy_map_version (map_id, version);

-- The last fetch of a map from each source address (a node polls every minute or so: one row
-- per source, counted, rather than a row per fetch).
create table proxy_map_fetch (
    map_id bigint not null references proxy_map (id) on delete cascade,
    source text not null,
    -- the inventory node with that address, when there is one
    node_id bigint references node (id) on delete set null,
    version integer not null,
    fetches bigint not null default 1,
    first_at timestamptz not null default now(),
    last_at timestamptz not null default now(),
    primary key (map_id, source)
);
