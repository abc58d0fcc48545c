//! The allocator's settings: glibc's malloc, left to itself, keeps what a busy console freed.
//! Each thread that allocates gets an arena of its own (up to eight per core), and after a large
//! block is freed the size above which blocks are mapped (and given back on free) rises to
//! that block's size. A password hash takes 19 MiB (argon2's memory) on whichever blocking
//! thread runs it, so a few sign-ins left 19 MiB behind in several arenas: 147-191 MB resident
//! after a few minutes of use, never returned. Here blocks of 256 KiB and more are always
//! mapped (so a hash's memory goes back to the system when it is freed), two arenas serve all
//! threads, and [`trim`] hands free pages back now and then.

/// Sets the allocator up; call first thing in `main`, before any thread starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's malloc parameters; called before other threads run.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives the free memory at the top of each arena and its free pages back to the system.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
