-- Access to the appliances' admin: CLI over SSH: credentials (encrypted), pinned host keys,
-- the certificate stores read from them, and connected-users samples.

alter table node add column ssh_port integer not null default 22 check (ssh_port between 1 and 65535);

-- The platform admin account. The password is AES-256-GCM sealed with the server's secret key
-- (GATEHOUSE_SECRET_KEY_FILE or <data dir>/secret.key), the node id as associated data.
create table node_credential (
    node_id bigint primary key references node (id) on delete cascade,
    username text not null check (length(username) between 1 and 100),
    nonce bytea not null check (length(nonce) = 12),
    sealed bytea not null,
    updated_at timestamptz not null default now(),
    updated_by text not null
);

-- The host key pinned on first use, and a different one the node presented since (which
-- blocks every operation until an admin accepts it).
create table node_host_key (
    node_id bigint primary key references node (id) on delete cascade,
    fingerprint text not null,
    algorithm text not null,
    public_key text not null,
    pinned_at timestamptz not null default now(),
    confirmed_at timestamptz,
    confirmed_by text,
    presented_fingerprint text,
    presented_algorithm text,
    presented_public_key text,
    presented_at timestamptz
);

-- The last read of a node's certificate stores (`show cert list own|trust`, then each file).
create table store_read (
    node_id bigint primary key references node (id) on delete cascade,
    -- the last good read (null: none yet)
    read_at timestamptz,
    -- why the last attempt failed (the entries are then those of the last good read)
    error text,
    attempted_at timestamptz not null default now()
);

create table store_entry (
    node_id bigint not null references node (id) on delete cascade,
    store text not null check (store in ('own', 'trust')),
    unit text not null,
    file text not null,
    description text not null default '',
    sha256 text references certificate (sha256),
    -- why the file could not be read or parsed
    error text,
    primary key (node_id, store, unit, file)
);

-- Connected users per Finesse node, sampled (CLI summary or the ConnectedUsersInfo API).
create table connected_sample (
    node_id bigint not null references node (id) on delete cascade,
    read_at timestamptz not null default now(),
    desktop integer not null,
    fippa integer not null,
    third_party integer not null,
    total integer not null,
    lan integer not null,
    proxy integer not null,
    source text not null check (source in ('cli', 'rest')),
    primary key (node_id, read_at)
);
