//! `./x bench proxymap`: validating a 10,000-line map natively (goal ≤ 5 ms so validation stays
//! live while typing; the browser's figure is measured in Chromium). Prints a Markdown table.

use std::time::{Duration, Instant};

fn main() {
    let lines = 10_000;
    let mut text = String::with_capacity(lines * 60);
    for n in 0..lines {
        let (kind, port) = [
            ("finesse", 8445),
            ("ids", 8553),
            ("cuic", 8444),
            ("livedata", 12005),
        ][n % 4];
        text += &format!("{kind}{n}.internal.example.com:{port}={kind}{n}.xyz.example.com:443\n");
        if n % 100 == 0 {
            text += "# site block\n";
        }
    }
    let mut times: Vec<Duration> = (0..51)
        .map(|_| {
            let started = Instant::now();
            let map = proxymap::parse_bytes(text.as_bytes());
            assert!(!map.has_errors() && map.mappings.len() == lines);
            started.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let (median, worst) = (times[times.len() / 2], times[times.len() - 1]);
    println!(
        "### Proxy map: validating {lines} lines ({} KB), natively\n",
        text.len() / 1024
    );
    println!("| measure | result |\n|---|---|");
    println!(
        "| decode, parse and check, median of 51 / slowest | {} / {} {} (goal ≤ 5 ms) |",
        ms(median),
        ms(worst),
        if median <= Duration::from_millis(5) {
            "(met)"
        } else {
            "(**not met**)"
        }
    );
}
