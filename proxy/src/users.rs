//! The valid users as Finesse lists them (`auth.users_credentials`, seed 004): a login ID not
//! among them is refused without asking Finesse.

use crate::auth::plausible_user;
use crate::lock;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The valid users as Finesse last listed them (`auth.users_credentials`): a login ID not among
/// them is refused without asking Finesse. A list older than three refresh periods (Finesse not
/// answering) is no longer used: then every login ID is asked about again.
#[derive(Default)]
pub struct ValidUsers {
    list: Mutex<Option<(std::collections::HashSet<String>, Instant)>>,
    tried: Mutex<Option<Instant>>,
}

impl ValidUsers {
    /// Whether `user` is valid: `None` when no current list says.
    pub fn knows(&self, user: &str, refresh: Duration) -> Option<bool> {
        let list = lock(&self.list);
        let (users, at) = list.as_ref()?;
        (at.elapsed() < refresh * 3).then(|| users.contains(&user.to_ascii_lowercase()))
    }

    /// Takes a new list (login IDs, any case).
    pub fn take(&self, users: impl IntoIterator<Item = String>) -> usize {
        let users: std::collections::HashSet<String> =
            users.into_iter().map(|u| u.to_ascii_lowercase()).collect();
        let n = users.len();
        *lock(&self.list) = Some((users, Instant::now()));
        n
    }

    /// Whether the list is due for a read (marks the attempt).
    pub fn due(&self, refresh: Duration) -> bool {
        let mut tried = lock(&self.tried);
        let due = tried.is_none_or(|at| at.elapsed() >= refresh);
        if due {
            *tried = Some(Instant::now());
        }
        due
    }
}

/// The login IDs of a Finesse `<Users>` answer (`<loginId>` of each `<User>`).
pub fn login_ids(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<loginId>") {
        rest = &rest[start + "<loginId>".len()..];
        let Some(end) = rest.find("</loginId>") else {
            break;
        };
        let id = &rest[..end];
        if plausible_user(id) {
            out.push(id.to_owned());
        }
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finesse_user_list_gives_its_login_ids_and_the_book_answers_by_them() {
        let xml = "<Users><User><loginId>agent1</loginId><firstName>A</firstName></User>\
                   <User><loginId>Agent2</loginId></User><User><loginId>bad id</loginId></User></Users>";
        assert_eq!(login_ids(xml), ["agent1", "Agent2"]);
        let book = ValidUsers::default();
        let refresh = Duration::from_secs(900);
        assert_eq!(book.knows("agent1", refresh), None, "no list yet");
        book.take(login_ids(xml));
        assert_eq!(book.knows("AGENT2", refresh), Some(true));
        assert_eq!(book.knows("ghost", refresh), Some(false));
        assert!(book.due(refresh) && !book.due(refresh));
    }
}
