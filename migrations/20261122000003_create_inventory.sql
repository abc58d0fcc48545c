-- The inventory: clusters of appliances and their nodes' endpoints.
create table cluster (
    id bigint generated always as identity primary key,
    name text not null constraint cluster_name_key unique,
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table node (
    id bigint generated always as identity primary key,
    cluster_id bigint not null references cluster (id) on delete restrict,
    -- app/src/inventory/domain.rs NodeKind::as_str
    kind text not null check (kind in ('finesse', 'cuic', 'livedata', 'ids', 'idp', 'uccx', 'socialminer',
        'mediasense', 'imp', 'cucm', 'broadworks', 'reverse_proxy', 'load_balancer', 'other')),
    role text not null default 'none' check (role in ('primary', 'secondary', 'side_a', 'side_b', 'none')),
    -- lowercase, no trailing dot; the name certificates and the components use
    fqdn text not null,
    -- where to connect instead of resolving the FQDN (probes still send the FQDN as SNI)
    address text,
    -- the product version, as the admin enters it (e.g. 12.6(2) ES03)
    version text not null default '',
    tags text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint node_fqdn_key unique (cluster_id, fqdn)
);
-- one publisher (primary), one side A and one side B per kind in a cluster; subscribers can be many
create unique index node_unique_role_key on node (cluster_id, kind, role) where role in ('primary', 'side_a', 'side_b');

create table endpoint (
    id bigint generated always as identity primary key,
    node_id bigint not null references node (id) on delete cascade,
    port integer not null check (port between 1 and 65535),
    -- what the port is for (desktop, notification, ...)
    purpose text not null default '',
    constraint endpoint_port_key unique (node_id, port)
);
