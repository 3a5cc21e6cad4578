//! Files zfleet writes that may hold secrets (known_hosts, API traces, simulator state and
//! host keys): created 0600, with the folders zfleet creates for them 0700, whatever the
//! umask. Existing files and folders keep the modes their owner gave them, as OpenSSH does.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Mode of a file zfleet creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of a folder zfleet creates.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and any missing parents, each one zfleet creates 0700.
pub fn create_dir_private(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_private(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    match builder.create(dir) {
        // The umask may have taken bits off the mode asked for; set it exactly.
        Ok(()) => set_mode(dir, DIR_MODE),
        // Another process made it meanwhile: its modes are its own.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Opens `path` for appending, creating it 0600 (and its missing folders 0700) if absent.
pub fn create_private(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent() {
        create_dir_private(parent)?;
    }
    open_private(path)
}

/// Opens `path` for appending, creating it 0600 if absent; its folder must exist.
pub fn open_private(path: &Path) -> io::Result<File> {
    let mut new = OpenOptions::new();
    new.append(true).create_new(true);
    #[cfg(unix)]
    new.mode(FILE_MODE);
    match new.open(path) {
        Ok(f) => {
            set_file_mode(&f, FILE_MODE)?;
            Ok(f)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            OpenOptions::new().append(true).open(path)
        }
        Err(e) => Err(e),
    }
}

/// Creates `path` afresh (it must not exist), 0600, for a write-then-rename.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut new = OpenOptions::new();
    new.write(true).create_new(true);
    #[cfg(unix)]
    new.mode(FILE_MODE);
    let f = new.open(path)?;
    set_file_mode(&f, FILE_MODE)?;
    Ok(f)
}

/// Holds an exclusive lock on an open file until dropped.
pub struct Locked<'a>(&'a File);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Waits for the exclusive lock of `file` (shared with every process that locks it).
pub fn lock_exclusive(file: &File) -> io::Result<Locked<'_>> {
    file.lock()?;
    Ok(Locked(file))
}

#[cfg(unix)]
/// Sets the mode of `path` exactly, whatever the umask did.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(unix)]
fn set_file_mode(f: &File, mode: u32) -> io::Result<()> {
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub fn set_mode(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(not(unix))]
fn set_file_mode(_: &File, _: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn created_private_existing_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("a/b/known_hosts");
        create_private(&file).expect("create");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        set_mode(&file, 0o644).expect("chmod");
        create_private(&file).expect("reopen");
        assert_eq!(mode(&file), 0o644);
        assert!(create_new_private(&file).is_err());
    }
}
