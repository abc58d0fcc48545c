-- Servers whose certificates a cluster's nodes must trust and that are no node of the inventory:
-- third-party gadget and script servers an admin lists, and the proxy map's HTTPS hosts. The
-- console reads the chain each serves (a TLS handshake) when asked, and keeps it here.
create table trust_server (
    cluster_id bigint not null references cluster (id) on delete cascade,
    host text not null check (length(host) between 1 and 253),
    port integer not null check (port between 1 and 65535),
    -- 'admin': listed on the trust matrix page; 'proxy_map': a config URI of the cluster's map
    source text not null check (source in ('admin', 'proxy_map')),
    added_by text not null,
    added_at timestamptz not null default now(),
    -- the chain served at the last good read, leaf first (certificate.sha256)
    chain text[] not null default '{}',
    read_at timestamptz,
    -- why the last read failed (the chain is then that of the last good read)
    error text,
    primary key (cluster_id, host, port)
);
