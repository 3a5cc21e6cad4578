//! The process's copy of each simulated system's state, kept in memory for the life of the
//! process and keyed by the state file's path.
//!
//! A state is parsed once and parsed again only when its file changed under it (another
//! process wrote it: `zfleet sim advance`, `sim faults`, the SSH server): every look compares
//! the file's length, modification time and inode with what was read. Readers share the
//! parsed state and never wait for each other. A change is written under the file's lock
//! (a `.lock` file beside it, which every process takes) as a whole new file renamed over the
//! old one, 0600.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::SystemTime;

use super::state::SimState;
use super::state_problem;
use crate::diag::Problem;

/// What identifies one version of a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let m = std::fs::metadata(path)?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Ok(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode,
    })
}

#[derive(Default)]
struct Cached {
    state: Option<Arc<SimState>>,
    stamp: Option<Stamp>,
}

/// One state file's place in the registry.
struct Entry {
    path: PathBuf,
    /// Writers of this process take turns here before they take the file's lock.
    gate: Mutex<()>,
    cache: RwLock<Cached>,
}

fn entry(state_file: &Path) -> &'static Entry {
    static REGISTRY: OnceLock<Mutex<HashMap<PathBuf, &'static Entry>>> = OnceLock::new();
    let key = std::path::absolute(state_file).unwrap_or_else(|_| state_file.to_path_buf());
    let mut map = REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    // Entries live as long as the process, like the states they keep.
    map.entry(key).or_insert_with(|| {
        Box::leak(Box::new(Entry {
            path: state_file.to_path_buf(),
            gate: Mutex::new(()),
            cache: RwLock::new(Cached::default()),
        }))
    })
}

impl Entry {
    /// The state as the file has it now, parsed again only if the file changed.
    fn current(&self) -> Result<Arc<SimState>, Problem> {
        let now = match stamp(&self.path) {
            Ok(s) => s,
            Err(e) => {
                *self.cache.write().unwrap_or_else(PoisonError::into_inner) = Cached::default();
                return Err(state_problem(&self.path, &e.to_string()));
            }
        };
        {
            let c = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            if let (Some(st), Some(s)) = (&c.state, c.stamp)
                && s == now
            {
                return Ok(Arc::clone(st));
            }
        }
        let mut c = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if let (Some(st), Some(s)) = (&c.state, c.stamp)
            && s == now
        {
            return Ok(Arc::clone(st));
        }
        // The stamp is taken before reading: a file replaced meanwhile is read again next time.
        let text = std::fs::read_to_string(&self.path)
            .map_err(|e| state_problem(&self.path, &e.to_string()))?;
        let state: SimState =
            serde_json::from_str(&text).map_err(|e| state_problem(&self.path, &e.to_string()))?;
        let state = Arc::new(state);
        *c = Cached {
            state: Some(Arc::clone(&state)),
            stamp: Some(now),
        };
        Ok(state)
    }

    fn install(&self, state: Arc<SimState>, stamp: Option<Stamp>) {
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) = Cached {
            state: Some(state),
            stamp,
        };
    }
}

/// The state of `state_file`, shared with every other reader in this process.
pub fn current(state_file: &Path) -> Result<Arc<SimState>, Problem> {
    entry(state_file).current()
}

/// Holds a state file's lock: other writers of this process and of every other process wait.
pub struct LockGuard {
    file: File,
    _gate: MutexGuard<'static, ()>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Takes the exclusive lock of a state file (a `.lock` file beside it, so the state file
/// itself can be replaced atomically).
pub fn lock(state_file: &Path) -> Result<LockGuard, Problem> {
    let gate = entry(state_file)
        .gate
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut name = state_file.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let path = state_file.with_file_name(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| state_problem(state_file, &e.to_string()))?;
    file.lock()
        .map_err(|e| state_problem(state_file, &e.to_string()))?;
    Ok(LockGuard { file, _gate: gate })
}

/// Writes a whole state (the caller holds its lock) and keeps it as this process's copy.
pub fn save(state_file: &Path, state: SimState) -> Result<(), Problem> {
    let text = serde_json::to_string_pretty(&state)
        .map_err(|e| state_problem(state_file, &e.to_string()))?;
    let tmp = tmp_path(state_file);
    let write = || -> std::io::Result<()> {
        // The state holds the fixture's keys and credentials: 0600 whatever the umask.
        let _ = std::fs::remove_file(&tmp);
        let mut f = crate::files::create_new_private(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        // No fsync: the rename keeps the file whole if zfleet dies mid-write, and a
        // simulated system need not survive a power cut; syncing every change made a
        // fleet's apply wait on the disk rather than on the latency it models.
        std::fs::rename(&tmp, state_file)
    };
    write().map_err(|e| state_problem(state_file, &e.to_string()))?;
    entry(state_file).install(Arc::new(state), stamp(state_file).ok());
    Ok(())
}

fn tmp_path(state_file: &Path) -> PathBuf {
    let mut name = state_file.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    state_file.with_file_name(name)
}

/// Runs `f` on a copy of the state under the lock and writes the copy if `f` changed it.
pub fn with_state<R>(state_file: &Path, f: impl FnOnce(&mut SimState) -> R) -> Result<R, Problem> {
    let _lock = lock(state_file)?;
    let before = current(state_file)?;
    let mut state = SimState::clone(&before);
    let r = f(&mut state);
    // Write only when something changed: reads must not touch the file.
    if state != *before {
        save(state_file, state)?;
    }
    Ok(r)
}

/// Runs `f` as a reader would, without any lock, on a copy of the current state; only if
/// that copy changed is `f` run again under the lock (on the state as it is then, unless it
/// is still the one `f` saw) and the result written. `f` must act on nothing but the state.
pub fn read_or_write<R>(
    state_file: &Path,
    mut f: impl FnMut(&mut SimState) -> R,
) -> Result<R, Problem> {
    let seen = current(state_file)?;
    let mut state = SimState::clone(&seen);
    let r = f(&mut state);
    if state == *seen {
        return Ok(r);
    }
    let _lock = lock(state_file)?;
    let latest = current(state_file)?;
    if Arc::ptr_eq(&latest, &seen) {
        save(state_file, state)?;
        return Ok(r);
    }
    let mut state = SimState::clone(&latest);
    let r = f(&mut state);
    if state != *latest {
        save(state_file, state)?;
    }
    Ok(r)
}
