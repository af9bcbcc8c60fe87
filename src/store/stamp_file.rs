//! Per-user stamps for a SQLite session store, shared by every process that opens the
//! database (servers and the command line): a file beside it, `PATH-stamps`, of [`SLOTS`]
//! eight-byte slots, user *n*'s in slot *n* mod [`SLOTS`]. Reading one is a load from the
//! file mapped into memory (the page cache itself, so a write by any process shows at once),
//! far cheaper than a read transaction and without the system call a `pread` costs: that is
//! what lets the session check remember sessions (see `service::check_cache`) and still see
//! a revocation by another process at the very next request.
//!
//! A bump writes a fresh random value, never a counter: two processes bumping one slot at
//! once cannot lose an update and bring back a value a reader remembered. Users sharing a
//! slot only cost each other a re-read.

use memmap2::MmapRaw;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::sync::atomic::{AtomicU64, Ordering};

const SLOTS: u64 = 65_536;
const SLOT_BYTES: u64 = 8;

pub struct StampFile {
    file: File,
    /// The whole file, for reads; writes go through `file`.
    map: MmapRaw,
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
        let map = MmapRaw::map_raw(&file).map_err(error)?;
        Ok(StampFile { file, map })
    }

    /// The user's current stamp.
    pub fn read(&self, user_id: i64) -> u64 {
        let offset = slot(user_id) as usize;
        debug_assert!(offset + SLOT_BYTES as usize <= self.map.len());
        // SAFETY: the map holds the whole file, checked at `open` to be SLOTS slots long, and
        // sessiond never shortens it (one who does gets SIGBUS here, not wrong answers); the
        // map starts on a page and slots on eight bytes, so the load is aligned and, as an
        // atomic one, never sees half of another process's write.
        let stamp = unsafe { &*self.map.as_ptr().add(offset).cast::<AtomicU64>() };
        stamp.load(Ordering::Acquire)
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
        let (before, neighbour) = (reader.read(7), reader.read(8));
        writer.bump([7]).unwrap();
        assert_ne!(reader.read(7), before);
        assert_eq!(writer.read(7), reader.read(7));
        assert_eq!(reader.read(8), neighbour);
        // Users a slot apart share it.
        assert_eq!(reader.read(7 + SLOTS as i64), reader.read(7));
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
