//! The host names a restricted map's fetches are checked against, resolved once and kept.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Host names resolved for restricted maps, each kept a minute (found or not) and at most
/// [`Names::MAX`] of them, so that a stranger's fetches cannot make the console resolve every
/// node's name each time (the lookups run on the blocking pool password hashing also uses).
/// A name being looked up is looked up once, however many fetches wait for it.
pub struct Names {
    cache: std::sync::Mutex<Answers>,
    ttl: Duration,
    lookup: Resolver,
}

/// How a name is looked up: the system's resolver on port 443 (tests give their own).
type Resolver =
    Arc<dyn Fn(String) -> futures::future::BoxFuture<'static, Arc<[IpAddr]>> + Send + Sync>;

/// A lookup under way, shared by everyone who asks for the name meanwhile.
type Lookup = futures::future::Shared<futures::future::BoxFuture<'static, Arc<[IpAddr]>>>;

/// Each name's addresses (none: it does not resolve) and when they were asked, or the lookup
/// under way.
type Answers = HashMap<String, Answer>;

enum Answer {
    Found(Instant, Arc<[IpAddr]>),
    Pending(Lookup),
}

impl Default for Names {
    fn default() -> Self {
        use futures::FutureExt;
        Self::with(
            Duration::from_secs(60),
            Arc::new(|name: String| {
                async move {
                    let asked = tokio::net::lookup_host((name.as_str(), 443));
                    match tokio::time::timeout(Names::LOOKUP, asked).await {
                        Ok(Ok(addresses)) => addresses.map(|a| a.ip()).collect(),
                        _ => Arc::from([]),
                    }
                }
                .boxed()
            }),
        )
    }
}

impl Names {
    pub const MAX: usize = 4096;
    /// How long one lookup may take.
    const LOOKUP: Duration = Duration::from_secs(2);

    fn with(ttl: Duration, lookup: Resolver) -> Self {
        Self {
            cache: std::sync::Mutex::default(),
            ttl,
            lookup,
        }
    }

    /// The addresses `name` resolves to (none when it does not, or not within 2 s).
    pub async fn resolve(&self, name: &str) -> Arc<[IpAddr]> {
        use futures::FutureExt;
        let now = Instant::now();
        let lookup = {
            let mut cache = self.lock();
            match cache.get(name) {
                Some(Answer::Found(at, found)) if now.duration_since(*at) < self.ttl => {
                    return found.clone();
                }
                Some(Answer::Pending(lookup)) => lookup.clone(),
                _ => {
                    if cache.len() >= Self::MAX {
                        cache.retain(|_, answer| match answer {
                            Answer::Found(at, _) => now.duration_since(*at) < self.ttl,
                            Answer::Pending(_) => true,
                        });
                        if cache.len() >= Self::MAX {
                            cache.clear();
                        }
                    }
                    let lookup = (self.lookup)(name.to_owned()).shared();
                    cache.insert(name.to_owned(), Answer::Pending(lookup.clone()));
                    lookup
                }
            }
        };
        let found = lookup.await;
        self.lock()
            .insert(name.to_owned(), Answer::Found(now, found.clone()));
        found
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A resolver that counts its lookups and answers 192.0.2.1 after 50 ms.
    fn counting() -> (Arc<AtomicUsize>, Resolver) {
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let resolver: Resolver = Arc::new(move |_name: String| {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Arc::from([IpAddr::from([192, 0, 2, 1])])
            }
            .boxed()
        });
        (asked, resolver)
    }

    #[tokio::test]
    async fn a_name_asked_by_many_at_once_is_looked_up_once_and_kept() {
        let (asked, resolver) = counting();
        let names = Arc::new(Names::with(Duration::from_secs(60), resolver));
        let waiting: Vec<_> = (0..50)
            .map(|_| {
                let names = names.clone();
                tokio::spawn(async move { names.resolve("finesse1.example.com").await })
            })
            .collect();
        for answer in waiting {
            assert_eq!(&*answer.await.unwrap(), &[IpAddr::from([192, 0, 2, 1])]);
        }
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "one lookup for fifty fetches"
        );
        names.resolve("finesse1.example.com").await;
        assert_eq!(asked.load(Ordering::SeqCst), 1, "kept within its minute");
        names.resolve("finesse2.example.com").await;
        assert_eq!(asked.load(Ordering::SeqCst), 2, "another name is looked up");
    }

    #[tokio::test]
    async fn an_answer_past_its_time_is_looked_up_again_and_the_cache_stays_bounded() {
        let (asked, resolver) = counting();
        let names = Names::with(Duration::ZERO, resolver);
        names.resolve("a.example.com").await;
        names.resolve("a.example.com").await;
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        let (_, resolver) = counting();
        let names = Names::with(Duration::from_secs(60), resolver);
        for i in 0..Names::MAX {
            names.lock().insert(
                format!("n{i}.example.com"),
                Answer::Found(Instant::now(), Arc::from([])),
            );
        }
        names.resolve("new.example.com").await;
        let cache = names.lock();
        assert!(cache.len() <= Names::MAX, "{} names kept", cache.len());
        assert!(cache.contains_key("new.example.com"));
    }
}
