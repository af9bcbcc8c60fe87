//! Per-user stamps for a SQLite session store, shared by every process that opens the
//! database (servers and the command line): a file beside it, `PATH-stamps`, of [`SLOTS`]
//! eight-byte slots, user *n*'s in slot *n* mod [`SLOTS`]. Reading one is a `pread` from the
//! page cache, far cheaper than a read transaction, which is what lets the session check
//! remember sessions (see `service::check_cache`) and still see a revocation by another
//! process at the very next request.
//!
//! A bump writes a fresh random value, never a counter: two processes bumping one slot at
//! once cannot lose an update and bring back a value a reader remembered. Users sharing a
//! slot only cost each other a re-read.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};

const SLOTS: u64 = 65_536;
const SLOT_BYTES: u64 = 8;

pub struct StampFile {
    file: File,
}

impl StampFile {
    /// Opens the stamps of the database at `db_path`, creating them when missing.
    pub fn open(db_path: &str) -> Result<StampFile, String> {
        let path = format!("{db_path}-stamps");
        let error = |e: io::Error| format!("cannot open {path:?}: {e}");
        if !std::path::Path::new(&path).exists() {
            create(&path).map_err(error)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(error)?;
        let len = file.metadata().map_err(error)?.len();
        if len != SLOTS * SLOT_BYTES {
            return Err(format!(
                "{path:?} is {len} bytes, not {}: it is not sessiond's stamp file",
                SLOTS * SLOT_BYTES
            ));
        }
        Ok(StampFile { file })
    }

    /// The user's current stamp.
    pub fn read(&self, user_id: i64) -> io::Result<u64> {
        let mut bytes = [0; SLOT_BYTES as usize];
        self.file.read_exact_at(&mut bytes, slot(user_id))?;
        Ok(u64::from_ne_bytes(bytes))
    }

    /// Gives each user a new stamp. Call after the change is committed, so a reader that
    /// saw the old stamp read the data before it too.
    pub fn bump(&self, user_ids: impl IntoIterator<Item = i64>) -> io::Result<()> {
        for user_id in user_ids {
            self.file
                .write_all_at(&super::fresh_stamp().to_ne_bytes(), slot(user_id))?;
        }
        Ok(())
    }
}

fn slot(user_id: i64) -> u64 {
    (user_id as u64 % SLOTS) * SLOT_BYTES
}

/// Writes the whole file under a name of its own, then links it into place, which fails if
/// another process got there first: nobody ever sees a short file, and no slot a process
/// already bumped is written over with zeros.
fn create(path: &str) -> io::Result<()> {
    let draft = format!("{path}.{}", std::process::id());
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&draft)?;
    // Real blocks, not a sparse file: a bump must never fail for want of disk space.
    io::Write::write_all(&mut file, &vec![0; (SLOTS * SLOT_BYTES) as usize])?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&draft, path);
    std::fs::remove_file(&draft)?;
    match linked {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_is_seen_through_another_handle_and_only_by_its_slot() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db").to_string_lossy().into_owned();
        let writer = StampFile::open(&db).unwrap();
        let reader = StampFile::open(&db).unwrap();
        let (before, neighbour) = (reader.read(7).unwrap(), reader.read(8).unwrap());
        writer.bump([7]).unwrap();
        assert_ne!(reader.read(7).unwrap(), before);
        assert_eq!(reader.read(8).unwrap(), neighbour);
        // Users a slot apart share it.
        assert_eq!(
            reader.read(7 + SLOTS as i64).unwrap(),
            reader.read(7).unwrap()
        );
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db").to_string_lossy().into_owned();
        std::fs::write(format!("{db}-stamps"), b"not ours").unwrap();
        let error = StampFile::open(&db).err().unwrap();
        assert!(error.contains("not sessiond's stamp file"), "{error}");
    }
}
