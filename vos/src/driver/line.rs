//! What may be typed at the `admin:` prompt: a [`Line`] (a command, or the answer to a
//! question) and a [`Paste`] (a certificate, line by line). Their only constructors take
//! printable ASCII and nothing else: every character that could end a line or steer the
//! terminal (CR, LF, NUL, every other C0 and C1 control character, DEL, U+2028 and U+2029) is
//! refused, and so is any other non-ASCII character (an invisible U+200B or a U+202E that turns
//! what an admin reads around: no VOS command or value needs one). A value can reach the CLI
//! only as the data of the one line it was meant for; the line breaks between a paste's lines,
//! and the blank line that ends it, are made by [`Line::typed`] and [`Paste::typed`].
//!
//! Arguments are checked once more as words ([`Line::arg`]): no whitespace, so a value is one
//! argument of its command and not two; a list joined by commas refuses commas inside its
//! items ([`Line::list`]).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// Why a value cannot be typed at the CLI; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The value, with what it holds escaped (`"a\nb"`).
    pub value: String,
    pub why: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} cannot be typed at the CLI: {}",
            self.value, self.why
        )
    }
}

impl std::error::Error for Refused {}

/// Whether `c` may stand inside one typed line: printable ASCII, space to `~`. So no line
/// break or separator, no control character of C0 (NUL, TAB, CR, LF, ESC, ...), DEL or C1
/// (NEL, CSI, ...), and nothing else outside ASCII.
pub fn typeable(c: char) -> bool {
    matches!(c, ' '..='~')
}

fn refuse(value: &str, why: &'static str) -> Refused {
    Refused {
        value: value.to_owned(),
        why,
    }
}

fn check_line(text: &str) -> Result<(), Refused> {
    if text.trim().is_empty() {
        return Err(refuse(text, "it is empty"));
    }
    if !text.chars().all(typeable) {
        return Err(refuse(
            text,
            "it holds a line break, a control character or a character outside printable ASCII",
        ));
    }
    Ok(())
}

fn check_word(word: &str) -> Result<(), Refused> {
    check_line(word)?;
    if word.chars().any(char::is_whitespace) {
        return Err(refuse(word, "a value may not hold spaces"));
    }
    Ok(())
}

/// One line typed at the prompt, without its line break.
#[derive(Clone, PartialEq, Eq)]
pub struct Line(Cow<'static, str>);

impl Line {
    /// A line of the program's own (a command without arguments). Checked when compiled:
    /// use it in a `const` (the [`cli!`](crate::cli) macro does), where a bad literal stops
    /// the build. Only printable ASCII is taken.
    pub const fn fixed(text: &'static str) -> Self {
        let bytes = text.as_bytes();
        assert!(!bytes.is_empty(), "a CLI line may not be empty");
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                bytes[i] >= 0x20 && bytes[i] < 0x7f,
                "a fixed CLI line holds printable ASCII only"
            );
            i += 1;
        }
        Line(Cow::Borrowed(text))
    }

    /// A line of any text that holds no line break or control character.
    pub fn new(text: impl Into<String>) -> Result<Self, Refused> {
        let text = text.into();
        check_line(&text)?;
        Ok(Line(Cow::Owned(text)))
    }

    /// This line followed by `more`, both checked already (`utils finesse` + `cors status`).
    pub fn then(self, more: Line) -> Self {
        let mut line = self.0.into_owned();
        line.push(' ');
        line.push_str(&more.0);
        Line(Cow::Owned(line))
    }

    /// This line followed by `text`, words and spaces, to the end of the line (a service's
    /// name: `utils service restart Cisco Tomcat`).
    pub fn rest(self, text: &str) -> Result<Self, Refused> {
        check_line(text)?;
        let mut line = self.0.into_owned();
        line.push(' ');
        line.push_str(text);
        Ok(Line(Cow::Owned(line)))
    }

    /// This line followed by `word` as one more argument: a word holds no whitespace.
    pub fn arg(self, word: &str) -> Result<Self, Refused> {
        check_word(word)?;
        self.rest(word)
    }

    /// This line followed by `items` joined by commas, as one argument (`add a,b`): an item
    /// holds no whitespace and no comma.
    pub fn list(self, items: &[&str]) -> Result<Self, Refused> {
        if items.is_empty() {
            return Err(refuse("", "the list is empty"));
        }
        for item in items {
            check_word(item)?;
            if item.contains(',') {
                return Err(refuse(item, "an item of a list may not hold a comma"));
            }
        }
        self.arg(&items.join(","))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes typed: the line and its line break.
    pub fn typed(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.0.len() + 1);
        bytes.extend_from_slice(self.0.as_bytes());
        bytes.push(b'\n');
        bytes
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// A `Line` from a literal, checked when compiled: `cli!("show version active")`.
#[macro_export]
macro_rules! cli {
    ($text:literal) => {
        const { $crate::driver::Line::fixed($text) }
    };
}

/// Text pasted at a prompt that reads until a blank line (`Paste the Certificate and Hit
/// Enter`): non-blank lines, each typeable, typed with a line break after each and one blank
/// line to end the paste. Its one constructor makes the lines from a certificate's DER, so
/// what is pasted is always a certificate the caller parsed, never text it was given.
#[derive(Clone, PartialEq, Eq)]
pub struct Paste(Vec<String>);

impl Paste {
    /// The certificate `der` in PEM: its armour and its base64 in lines of 64.
    pub fn certificate(der: &[u8]) -> Result<Self, Refused> {
        use base64::Engine;
        if der.is_empty() {
            return Err(refuse("", "the certificate is empty"));
        }
        let text = base64::engine::general_purpose::STANDARD.encode(der);
        let mut lines = vec!["-----BEGIN CERTIFICATE-----".to_owned()];
        // Base64 is ASCII: every chunk is a whole string.
        lines.extend(
            text.as_bytes()
                .chunks(64)
                .map(|chunk| chunk.iter().map(|&b| char::from(b)).collect()),
        );
        lines.push("-----END CERTIFICATE-----".to_owned());
        Ok(Paste(lines))
    }

    /// The bytes typed: each line and its line break, then the blank line that ends it.
    pub fn typed(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for line in &self.0 {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        bytes.push(b'\n');
        bytes
    }
}

impl fmt::Debug for Paste {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Paste({} lines)", self.0.len())
    }
}

/// What is typed in answer to a question: a line, or a paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Line(Line),
    Paste(Paste),
}

impl Answer {
    pub fn typed(&self) -> Vec<u8> {
        match self {
            Answer::Line(line) => line.typed(),
            Answer::Paste(paste) => paste.typed(),
        }
    }
}

impl From<Line> for Answer {
    fn from(line: Line) -> Self {
        Answer::Line(line)
    }
}

impl Serialize for Line {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read back through the same check as a new line.
impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Line::new(text).map_err(serde::de::Error::custom)
    }
}

/// A DER (or any bytes) stored as base64 text: `#[serde(with = "vos::driver::base64_der")]`.
pub mod base64_der {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(der: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(der))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// `text` as one line an admin reads as it is: every character that breaks a line, steers the
/// terminal, turns the text around (bidirectional overrides) or hides (zero-width) is shown as
/// U+FFFD; letters of any script stay.
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            let hidden = c.is_control()
                || matches!(c,
                    '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
            if hidden {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_refuses_every_character_that_could_end_it_or_steer_the_terminal() {
        for bad in [
            "a\nb",
            "a\rb",
            "a\0b",
            "a\tb",
            "a\u{1b}[2Jb",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9b}b",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\u{200b}b",
            "a\u{202e}b",
            "é",
            "",
            " ",
            "\n",
        ] {
            assert!(Line::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Line::new("utils service restart Cisco Tomcat")
                .unwrap()
                .typed(),
            b"utils service restart Cisco Tomcat\n"
        );
    }

    #[test]
    fn a_word_is_one_argument() {
        for bad in ["a b", "a\u{a0}b", "a\u{3000}b", "", "x\n"] {
            assert!(cli!("show cert").arg(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            cli!("show cert own")
                .arg("tomcat/tomcat.pem")
                .unwrap()
                .as_str(),
            "show cert own tomcat/tomcat.pem"
        );
    }

    #[test]
    fn a_list_item_holds_no_comma() {
        assert!(cli!("add")
            .list(&["https://a.example.com,https://b"])
            .is_err());
        assert!(cli!("add").list(&[]).is_err());
        assert_eq!(cli!("add").list(&["a", "b"]).unwrap().as_str(), "add a,b");
    }

    #[test]
    fn a_paste_is_the_certificate_in_pem_ended_by_a_blank_line() {
        let paste = Paste::certificate(&[0u8; 100]).unwrap();
        let typed = String::from_utf8(paste.typed()).unwrap();
        assert!(typed.starts_with("-----BEGIN CERTIFICATE-----\nAAAA"));
        assert!(typed.ends_with("-----END CERTIFICATE-----\n\n"));
        // Only the blank line at the end: one "\n\n".
        assert_eq!(typed.matches("\n\n").count(), 1);
        assert!(Paste::certificate(&[]).is_err());
    }
}
