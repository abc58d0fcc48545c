//! Arbitrary strings through every driver operation that takes one: each is refused before
//! anything is typed, or typed as exactly the one line (or paste) it should be.

use super::*;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// A driver that records what would be typed: the command's bytes, then the plan's answer to
/// each question such a command is asked. It answers every command with an error, so an
/// operation ends after its first command.
#[derive(Default)]
struct Recorder {
    typed: Mutex<Vec<Vec<u8>>>,
    /// The menu a delete shows (its first item is the label looked for).
    menu: Mutex<String>,
}

impl Driver for Recorder {
    fn run(&self, command: Command) -> impl Future<Output = Result<String, DriverError>> + Send {
        let mut typed = self.typed.lock().unwrap();
        typed.push(command.line().typed());
        let menu = self.menu.lock().unwrap().clone();
        for question in [
            "Paste the Certificate and Hit Enter\n".to_owned(),
            "Proceed with regeneration (yes|no)? ".to_owned(),
            menu,
        ] {
            if let Some(answer) = command.answer(&question) {
                typed.push(answer.typed());
            }
        }
        async { Err(DriverError::Unsupported("recorded")) }
    }
}

/// Polls a future that never waits (the recorder's) to its end.
fn now<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the recorder's futures never wait"),
    }
}

/// A small xorshift: the same strings every run, weighted towards what breaks lines.
struct Strings(u64);

impl Strings {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn string(&mut self) -> String {
        const NASTY: &[char] = &[
            '\n', '\r', '\0', '\t', ' ', ',', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}',
            '\u{2029}', '\u{a0}', '\u{3000}', '\u{feff}', 'é', '日', '"', '\'', ';', '|', '&', '$',
            '`', '\\',
        ];
        const PLAIN: &[u8] = b"abcz019.-:/_*ABC";
        let length = self.next() % 14;
        (0..length)
            .map(|_| match self.next() % 8 {
                0 | 1 => NASTY[(self.next() % NASTY.len() as u64) as usize],
                2 => char::from_u32((self.next() % 0x11_0000) as u32).unwrap_or('x'),
                _ => char::from(PLAIN[(self.next() % PLAIN.len() as u64) as usize]),
            })
            .collect()
    }
}

fn is_line(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().all(typeable)
}

fn is_word(s: &str) -> bool {
    is_line(s) && !s.chars().any(char::is_whitespace)
}

impl Recorder {
    fn with_menu(label: &str) -> Self {
        let recorder = Recorder::default();
        *recorder.menu.lock().unwrap() = format!(
            "1: {label}\na: all\nq: quit\nSelect the index of source to be deleted [1-1 or a,q]: "
        );
        recorder
    }
}

/// Runs `$operation` on a recorder `$d`, then [`judge`]s what it typed.
macro_rules! check {
    ($input:expr, $allowed:expr, $expected:expr, |$d:ident| $operation:expr) => {{
        let $d = Recorder::with_menu($input);
        let result = now($operation);
        let refused = matches!(result, Err(DriverError::Refused(_)));
        let shown = format!("{result:?}");
        judge($input, $allowed, &$expected, $d, refused, &shown)
    }};
}

/// Checks that the operation was refused exactly when `allowed` is false (with nothing
/// typed), and otherwise that the command typed is `expected`, as one line; answers hold no
/// control character inside their lines. What was typed, for further checks.
fn judge(
    input: &str,
    allowed: bool,
    expected: &str,
    recorder: Recorder,
    refused: bool,
    result: &str,
) -> Vec<Vec<u8>> {
    let typed = recorder.typed.into_inner().unwrap();
    if !allowed {
        assert!(refused, "{input:?} was not refused: {result}");
        assert!(typed.is_empty(), "{input:?} was refused after typing");
        return typed;
    }
    assert!(!refused, "{input:?} was refused: {result}");
    let command = String::from_utf8(typed[0].clone()).expect("typed text is UTF-8");
    assert_eq!(command, format!("{expected}\n"));
    assert_eq!(command.matches('\n').count(), 1, "{command:?}");
    assert!(command.trim_end_matches('\n').chars().all(typeable));
    for answer in &typed[1..] {
        let answer = String::from_utf8(answer.clone()).expect("answers are UTF-8");
        assert!(
            answer.lines().all(|l| l.chars().all(typeable)),
            "{answer:?}"
        );
    }
    typed
}

#[test]
fn arbitrary_strings_are_refused_or_typed_as_exactly_their_one_line() {
    let mut strings = Strings(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let s = strings.string();
        let word = is_word(&s);
        let item = word && !s.contains(',');
        check!(
            &s,
            word,
            &format!("utils system reverse-proxy allowed-hosts add {s}"),
            |d| d.add_allowed_host(&s)
        );
        check!(
            &s,
            word,
            &format!("utils system reverse-proxy config-uri add {s}"),
            |d| d.add_config_uri(&s)
        );
        for product in [Product::Finesse, Product::Cuic, Product::LiveData] {
            let p = product.word();
            check!(
                &s,
                item,
                &format!("utils {p} cors allowed_origin add {s}"),
                |d| d.add_allowed_origins(product, &[&s])
            );
            check!(
                &s,
                item,
                &format!("utils {p} frame_access_allowed_list add {s},a"),
                |d| d.add_frame_sources(product, &[&s, "a"])
            );
            // A delete types the fixed command and a menu number, whatever the label holds.
            let typed = check!(
                &s,
                true,
                &format!("utils {p} cors allowed_origin delete"),
                |d| d.delete_allowed_origin(product, &s, Some(1))
            );
            assert!(typed[1..].iter().all(|a| a == b"1\n"), "{typed:?}");
        }
        check!(
            &s,
            true,
            "utils system reverse-proxy allowed-hosts delete",
            |d| d.delete_allowed_host(&s, None)
        );
        check!(&s, word, &format!("set cert regen {s}"), |d| d
            .regenerate(&s));
        check!(&s, word, &format!("set csr gen {s}"), |d| d
            .generate_csr(&s));
        check!(
            &s,
            word,
            &format!("utils finesse show_property webservices {s}"),
            |d| d.property(&s)
        );
        check!(
            &s,
            word,
            &format!("utils finesse set_property webservices a {s}"),
            |d| d.set_property("a", &s)
        );
        check!(
            &s,
            is_line(&s),
            &format!("utils service restart {s}"),
            |d| d.restart(&s, None)
        );
        let entry = CertEntry {
            unit: "tomcat".into(),
            file: s.clone(),
            description: String::new(),
        };
        check!(
            &s,
            is_word(&format!("tomcat/{s}")),
            &format!("show cert trust tomcat/{s}"),
            |d| d.cert_pem(Store::Trust, &entry)
        );
        let typed = check!(&s, word, &format!("set cert import trust {s}"), |d| d
            .import_trust(&s, s.as_bytes()));
        if word && !s.is_empty() {
            // The paste: the bytes given, in PEM, ended by the one blank line.
            let paste = String::from_utf8(typed[1].clone()).unwrap();
            assert!(
                paste.starts_with("-----BEGIN CERTIFICATE-----\n"),
                "{paste:?}"
            );
            assert!(
                paste.ends_with("-----END CERTIFICATE-----\n\n"),
                "{paste:?}"
            );
            assert_eq!(paste.matches("\n\n").count(), 1);
        }
    }
}

#[test]
fn a_paste_holds_the_certificate_given_not_text_around_it() {
    // Whatever bytes are given, the paste is their base64: a blank line and a command after
    // it cannot be carried in.
    let hostile = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\nutils system reverse-proxy client-auth disable\n";
    let recorder = Recorder::default();
    let _ = now(recorder.import_trust("tomcat", hostile));
    let typed = recorder.typed.into_inner().unwrap();
    let paste = String::from_utf8(typed[1].clone()).unwrap();
    assert!(!paste.contains("client-auth"), "{paste}");
    assert_eq!(paste.matches("\n\n").count(), 1);
}
