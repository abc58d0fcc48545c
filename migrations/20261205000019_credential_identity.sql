-- The identity a node's platform admin account is bound to: the host connected to (its address,
-- else its FQDN), the SSH port and its FQDN when an admin entered the credentials, accepted its host key, or
-- confirmed it at a new address with a connection test. While either differs from the node's
-- own, nothing is sent to it: the credentials follow no address an admin did not confirm.
-- Null (credentials saved by a release before this column): bound to nothing, so confirmed
-- again before use.
alter table node_credential add column bound_host text, add column bound_port integer,
    add column bound_fqdn text;

update node_credential c set bound_host = coalesce(n.address, n.fqdn), bound_port = n.ssh_port,
    bound_fqdn = n.fqdn
from node n where n.id = c.node_id;
