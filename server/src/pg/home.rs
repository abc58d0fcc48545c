//! Who runs the embedded cluster and where its files live.
//!
//! PostgreSQL refuses to run as root, so when Gatehouse is root the cluster runs as the
//! `postgres` system user (else `nobody`). That user must be able to enter the cluster's
//! directory, and with it every directory above it. A checkout in root's home directory (mode
//! 0700) or a `mktemp -d` directory does not let it through. Then the cluster lives in
//! [`RELOCATED`]`/<id>` instead (the id is derived from the data directory's path, so each data
//! directory keeps its own cluster), and `<data dir>/postgres` is a symbolic link to it; the
//! password, the log and everything else of Gatehouse's stay in the data directory.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Where clusters go whose data directory the PostgreSQL user cannot reach (below the
/// `postgres` user's own directory; `/var/lib/gatehouse` is the installed service's).
pub const RELOCATED: &str = "/var/lib/postgresql/gatehouse-clusters";

/// The user to run PostgreSQL as, when we are root.
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
    pub name: &'static str,
}

/// `None` when we are not root (PostgreSQL then runs as we do).
pub fn run_as() -> Result<Option<RunAs>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        let cname = std::ffi::CString::new(name)?;
        // SAFETY: getpwnam takes a NUL-terminated string and returns null or a pointer to static
        // storage that we read at once.
        let entry = unsafe { libc::getpwnam(cname.as_ptr()) };
        if !entry.is_null() {
            // SAFETY: checked non-null above.
            let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
            return Ok(Some(RunAs { uid, gid, name }));
        }
    }
    bail!("running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")
}

/// Whether `user` can enter `dir`: asked of the system itself (a shell running as that user
/// changes into it), so groups and ACLs count as they will for PostgreSQL.
pub fn can_enter(user: &RunAs, dir: &Path) -> bool {
    std::process::Command::new("/bin/sh")
        .args(["-c", "cd -- \"$1\"", "sh"])
        .arg(dir)
        .uid(user.uid)
        .gid(user.gid)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The first directory from the root down to `dir` that `user` cannot enter.
pub fn first_closed(user: &RunAs, dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find(|d| !can_enter(user, d))
        .map(Path::to_path_buf)
}

/// The cluster directory for the (canonical) `data_dir`: `<data dir>/postgres` when the user who
/// runs PostgreSQL can reach it, else a directory under [`RELOCATED`] that `<data dir>/postgres`
/// links to (made on first use).
pub fn cluster_dir(data_dir: &Path, user: &Option<RunAs>) -> Result<PathBuf> {
    let inside = data_dir.join("postgres");
    let Some(user) = user else {
        return Ok(inside);
    };
    if let Ok(target) = std::fs::read_link(&inside) {
        return Ok(target);
    }
    let Some(closed) = first_closed(user, data_dir) else {
        return Ok(inside);
    };
    if inside.join("PG_VERSION").exists() {
        bail!(
            "the embedded PostgreSQL cluster in {} cannot be started: it runs as the '{name}' user, \
             which cannot enter {closed}. Let it through (`chmod o+x {closed}`), or move the data \
             directory (GATEHOUSE_DATA_DIR) to a place that user can reach, such as /var/lib/gatehouse",
            inside.display(),
            name = user.name,
            closed = closed.display(),
        );
    }
    let id = hex::encode(&Sha256::digest(data_dir.as_os_str().as_encoded_bytes())[..8]);
    let target = Path::new(RELOCATED).join(id);
    refuse_orphan(data_dir, &target)?;
    let made = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(RELOCATED)?;
        for dir in [
            Path::new(RELOCATED),
            Path::new(RELOCATED).parent().unwrap_or(Path::new("/")),
        ] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        }
        std::os::unix::fs::symlink(&target, &inside)
    })();
    made.with_context(|| {
        format!(
            "the '{name}' user, which runs the embedded PostgreSQL, cannot enter {closed}, so its \
             cluster was to live in {target} instead, and that failed. Let the user through \
             (`chmod o+x {closed}`), make {RELOCATED} writable, or set GATEHOUSE_DATA_DIR to a \
             directory the user can reach",
            name = user.name,
            closed = closed.display(),
            target = target.display(),
        )
    })?;
    tracing::info!(
        data_dir = %data_dir.display(),
        cluster = %target.display(),
        closed = %closed.display(),
        "the PostgreSQL user cannot enter the data directory: the embedded cluster lives outside it"
    );
    Ok(target)
}

/// Refuses to start a new cluster for `data_dir` where a relocated one from an earlier data
/// directory at the same path still lies: that directory (with the cluster's password and the
/// link) was removed without it. Nothing is deleted here: the operator decides.
fn refuse_orphan(data_dir: &Path, target: &Path) -> Result<()> {
    if target.exists() {
        bail!(
            "{target} holds the embedded PostgreSQL cluster of an earlier data directory at {data}, \
             which was removed without it ({data}/postgres no longer links to it, and the cluster's \
             password went with the directory). Remove it (`rm -rf {target}`) to start afresh, or \
             restore the data directory from a backup",
            target = target.display(),
            data = data_dir.display(),
        );
    }
    Ok(())
}

/// Removes a data directory and, when its cluster was relocated, the cluster too. A missing
/// directory is not an error.
pub fn remove_data_dir(data_dir: &Path) -> std::io::Result<()> {
    if let Ok(target) = std::fs::read_link(data_dir.join("postgres")) {
        if target.starts_with(RELOCATED) {
            match std::fs::remove_dir_all(&target) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    match std::fs::remove_dir_all(data_dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relocated_cluster_left_by_a_removed_data_directory_is_refused_not_reused() {
        let scratch = std::env::temp_dir().join(format!("gatehouse-orphan-{}", std::process::id()));
        let (data, target) = (scratch.join("data"), scratch.join("relocated"));
        std::fs::create_dir_all(&data).unwrap();
        refuse_orphan(&data, &target).expect("no cluster left behind: nothing to refuse");

        std::fs::create_dir_all(&target).unwrap();
        let error = refuse_orphan(&data, &target).unwrap_err().to_string();
        assert!(error.contains("earlier data directory"), "{error}");
        assert!(
            error.contains(&format!("rm -rf {}", target.display())),
            "{error}"
        );
        assert!(target.exists(), "the operator decides; nothing is deleted");
        std::fs::remove_dir_all(&scratch).unwrap();
    }
}
