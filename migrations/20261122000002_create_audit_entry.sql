-- The tamper-evident audit log. Append-only: the triggers below refuse UPDATE, DELETE and
-- TRUNCATE; the hash chain exposes whatever is done around them (see app/src/audit/ssr.rs).
create table audit_entry (
    -- consecutive, assigned by the writer under an advisory lock (a gap means a deleted entry)
    id bigint primary key,
    at timestamptz not null,
    -- username, token:<name>, system:<command>, or - when nobody is signed in
    actor text not null,
    actor_role text,
    -- the client's address
    source text,
    -- what was done, dotted: auth.login, user.create, audit.read, ...
    action text not null,
    -- what it was done to: user:<name>, token:<name>, node:<fqdn>, ...
    target text,
    outcome text not null check (outcome in ('success', 'failure', 'denied')),
    detail text,
    -- values before and after the change, secrets redacted
    before jsonb,
    after jsonb,
    -- the previous entry's hash (32 zero bytes for the first)
    prev_hash bytea not null check (length(prev_hash) = 32),
    -- SHA-256 over prev_hash and this entry's canonical form
    hash bytea not null check (length(hash) = 32)
);
create index audit_entry_at_idx on audit_entry (at);
create index audit_entry_actor_idx on audit_entry (actor);
create index audit_entry_action_idx on audit_entry (action);

create function audit_entry_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_entry is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_entry_no_update_or_delete
    before update or delete on audit_entry
    for each row execute function audit_entry_is_append_only();

create trigger audit_entry_no_truncate
    before truncate on audit_entry
    for each statement execute function audit_entry_is_append_only();
