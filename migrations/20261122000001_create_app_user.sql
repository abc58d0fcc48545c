-- People who sign in to the console. Monitoring systems use API tokens instead (api_token).
create table app_user (
    id bigint generated always as identity primary key,
    username text not null,
    -- argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
    password_hash text not null,
    role text not null check (role in ('admin', 'auditor')),
    -- set when an admin disables the account; a disabled user cannot sign in
    disabled_at timestamptz,
    -- moved on password reset and on disabling: sessions remember the epoch they started in and
    -- end when it no longer matches
    session_epoch integer not null default 0,
    last_login_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
-- usernames are unique whatever their case
create unique index app_user_username_key on app_user (lower(username));

-- Bearer tokens for automation and monitoring.
create table api_token (
    id bigint generated always as identity primary key,
    name text not null constraint api_token_name_key unique,
    -- the token's scope
    role text not null check (role in ('admin', 'auditor', 'monitor')),
    -- SHA-256 of the whole token; the token itself is shown once and never stored
    token_hash bytea not null unique,
    -- the token's first characters, shown in lists to tell tokens apart
    hint text not null,
    created_by bigint references app_user (id) on delete set null,
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz,
    created_at timestamptz not null default now()
);

-- tower-sessions records.
create table session (
    id text primary key,
    -- the session's key/value data as a JSON object
    data jsonb not null,
    expiry_date timestamptz not null
);
create index session_expiry_date_idx on session (expiry_date);
