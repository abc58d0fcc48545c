//! Any bytes as a configuration document: reading and checking it never panic, and a document
//! without problems is written and read back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| proxy::fuzzing::config(data));
