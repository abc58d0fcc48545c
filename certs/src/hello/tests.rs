use super::*;

const SUITES: [u16; 3] = [0xC02F, 0xC027, 0x002F];

#[test]
fn a_client_hello_reads_back_as_written() {
    for version in [TLS10, TLS11, TLS12] {
        let bytes = client_hello(version, &SUITES, Some("finesse1.example.com"), [7; 32]);
        let hello = parse_client_hello(&bytes).unwrap().unwrap();
        assert_eq!(hello.version, version);
        assert_eq!(hello.suites, SUITES, "the renegotiation SCSV is left out");
        assert_eq!(hello.server_name.as_deref(), Some("finesse1.example.com"));
        for end in 0..bytes.len() {
            assert_eq!(parse_client_hello(&bytes[..end]), Ok(None), "prefix {end}");
        }
    }
}

#[test]
fn a_server_flight_reads_back_with_its_chain_and_its_certificate_request() {
    let chain = vec![vec![0x30, 1, 2, 3], vec![0x30; 40_000]];
    let authorities = vec![vec![0x30, 0x00], vec![0x30, 0x02, 0x31, 0x00]];
    for (version, ask) in [(TLS10, true), (TLS12, true), (TLS12, false)] {
        let bytes = server_flight(version, 0xC02F, &chain, ask, &authorities, [9; 32]);
        let Some(Reply::Accepted(flight)) = parse_server_flight(&bytes).unwrap() else {
            panic!("no flight");
        };
        assert_eq!(flight.version, version);
        assert_eq!(flight.suite, 0xC02F);
        assert_eq!(flight.chain, chain, "split over records of at most 16 KiB");
        assert_eq!(flight.client_certificate_requested, ask);
        let expected = if ask { authorities.clone() } else { Vec::new() };
        assert_eq!(flight.certificate_authorities, expected);
        for end in (0..bytes.len()).step_by(997) {
            assert_eq!(parse_server_flight(&bytes[..end]), Ok(None), "prefix {end}");
        }
    }
}

#[test]
fn an_alert_is_the_answer_of_a_server_that_refuses() {
    let bytes = alert(TLS12, PROTOCOL_VERSION);
    assert_eq!(
        parse_server_flight(&bytes),
        Ok(Some(Reply::Alert {
            level: 2,
            description: 70
        }))
    );
    assert_eq!(alert_name(70), "protocol_version");
    assert_eq!(version_name(TLS10), "TLSv1");
}

#[test]
fn no_input_makes_either_reader_panic() {
    // A small deterministic generator: mutations of valid messages and plain noise.
    let valid = [
        client_hello(TLS12, &SUITES, Some("a.b"), [1; 32]),
        server_flight(
            TLS12,
            0xC02F,
            &[vec![0x30; 300]],
            true,
            &[vec![0x30, 0]],
            [2; 32],
        ),
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..20_000 {
        let mut bytes = valid[round % 2].clone();
        for _ in 0..(next() % 6) {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        bytes.truncate((next() as usize) % (bytes.len() + 1));
        let _ = parse_client_hello(&bytes);
        let _ = parse_server_flight(&bytes);
    }
}

#[test]
fn a_flight_that_never_ends_is_refused_once_it_passes_the_bound() {
    // A ServerHello, then ServerKeyExchange messages without end.
    let mut hello = TLS12.to_be_bytes().to_vec();
    hello.extend([1; 32]);
    hello.extend([0, 0xC0, 0x2F, 0]);
    let mut bytes = record(22, TLS12, &handshake(2, &hello));
    assert_eq!(
        parse_server_flight(&bytes),
        Ok(None),
        "a ServerHello alone: more to come"
    );
    let filler = handshake(12, &[0u8; 16_000]);
    while bytes.len() <= MAX_FLIGHT {
        bytes.extend(record(22, TLS12, &filler));
    }
    assert!(parse_server_flight(&bytes).is_err());
}
