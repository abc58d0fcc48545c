-- What a probe's chain and handshake were judged, beside `chain_incomplete` (the message).

-- The chain rule the message belongs to: `chain_incomplete` (the server leaves out a CA
-- certificate between its leaf and a root) or `unknown_root` (the chain is complete up to a CA
-- that no trusted root issued). Null on probes recorded before this column, which were all
-- `chain_incomplete`.
alter table probe add column chain_rule text;

-- Why the server's handshake signature did not verify with the served leaf's public key (null:
-- it verified, or there was no handshake).
alter table probe add column handshake_signature_error text;
