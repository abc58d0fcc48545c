-- The appliances' SSH session places, shared by the replicas: a node takes at most a few
-- sessions at once (2), whichever replicas open them. A replica holds a place from connecting
-- until the session closes and renews its lease while it holds it; the place of a replica that
-- died frees itself when its lease runs out.
create table ssh_slot (
    node_id bigint not null references node (id) on delete cascade,
    slot smallint not null check (slot >= 0),
    owner text not null,
    lease_until timestamptz not null,
    primary key (node_id, slot)
);
create index ssh_slot_owner_idx on ssh_slot (owner);
