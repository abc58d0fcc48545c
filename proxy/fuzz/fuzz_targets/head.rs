//! Any bytes as a request head: the engine's reading of it (host, path, client address,
//! credentials, the headers sent upstream) never panics and keeps its promises (see
//! `proxy/src/chain/fuzzing.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| proxy::fuzzing::request_head(data));
