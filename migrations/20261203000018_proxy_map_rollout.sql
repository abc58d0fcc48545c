-- A proxy map's rollout: the config URIs its cluster's nodes fetch it from (the first takes
-- precedence, the second is the fallback), how often, and whether only inventory addresses
-- may fetch it. Planned and applied by the reconciliation engine (plan.subject 'proxy_map').

alter table proxy_map
    add column config_uris text[] not null default '{}' check (cardinality(config_uris) <= 2),
    add column update_frequency integer not null default 1 check (update_frequency between 1 and 1440),
    add column restrict_to_inventory boolean not null default false,
    -- bumped by every change of the three above: a plan made from an older one is refused
    add column rollout_version integer not null default 0;

-- What each fetch answered, so the propagation view tells "fetching fine" from "refused".
alter table proxy_map_fetch add column status smallint not null default 200;
