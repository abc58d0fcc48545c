//! `gatehouse-proxy` is a separate deployable for the DMZ: none of the console's dependencies
//! (its web framework, its database, its page renderer) may reach it.

#[test]
fn the_engine_depends_on_none_of_the_consoles_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "tree",
            "-p",
            "proxy",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(
        crates.contains(&"hyper") && crates.contains(&"rustls"),
        "{tree}"
    );
    for console in [
        "leptos",
        "leptos_axum",
        "axum",
        "sqlx",
        "sqlx-postgres",
        "tower-sessions",
        "argon2",
        "domain",
        "app",
        "server",
        "russh",
        "reqwest",
        "x509-parser",
    ] {
        assert!(
            !crates.contains(&console),
            "{console} reaches the engine:\n{tree}"
        );
    }
}
