//! One month of request keys on disk (`seen/YYYY-MM.keys`): the keys of each UTC day of the
//! month sorted in a block of their own, so a day is read with one positional read and
//! checked against its own checksum, never the whole month.
//!
//! Layout (integers little-endian): [`MAGIC`], the day blocks (ascending days; a block is its
//! keys, sorted, 16 bytes each), the table (per day: day number, block offset, key count,
//! SHA-256 of the block), and a footer (day count, table offset, SHA-256 of the table,
//! [`MAGIC`] again). A file is written whole, streaming a day at a time, and replaced
//! atomically; anything that does not check out is damage, reported on the file.

use std::fs::File;
use std::io::Write;

use camino::{Utf8Path, Utf8PathBuf};
use sha2::Digest as _;

use crate::Error;
use crate::indexfile::read_at;

const MAGIC: &[u8; 8] = b"AOSSEEN1";
const ENTRY_BYTES: usize = 8 + 8 + 8 + 32;
const FOOTER_BYTES: u64 = 8 + 8 + 32 + 8;
/// Most days a month file lists.
const MAX_DAYS: u64 = 31;
/// Most keys one day holds (1 GiB of keys).
const MAX_DAY_KEYS: u64 = (1 << 30) / 16;

/// Microseconds in a day.
pub(crate) const DAY_US: i64 = 86_400_000_000;

/// Where one day's keys are in a month file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DayEntry {
    pub day: i64,
    offset: u64,
    count: u64,
    sum: [u8; 32],
}

/// The days a month file holds, read from its table (the file is opened again for each day
/// read: a run touches many months, and keeps no descriptor for each).
#[derive(Debug)]
pub(crate) struct MonthFile {
    pub path: Utf8PathBuf,
    pub days: Vec<DayEntry>,
}

/// The month (years × 12 + month − 1, proleptic Gregorian, UTC) of day number `day`
/// (days since 1970-01-01), and its file name `YYYY-MM.keys`.
pub(crate) fn month_of(day: i64) -> (i64, String) {
    let (year, month, _) = crate::line::civil_from_days(day);
    (year * 12 + month - 1, format!("{year:04}-{month:02}.keys"))
}

fn damaged(path: &Utf8Path, reason: &str) -> Error {
    Error::State { path: path.to_owned(), reason: reason.to_owned() }
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

impl MonthFile {
    /// The month file at `path`, `None` when there is none.
    pub fn open(path: &Utf8Path) -> Result<Option<MonthFile>, Error> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("open", path, e)),
        };
        let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
        if !meta.is_file() {
            return Err(damaged(path, "not a regular file"));
        }
        let len = meta.len();
        if len < MAGIC.len() as u64 + FOOTER_BYTES {
            return Err(damaged(path, "too short"));
        }
        let mut footer = [0u8; FOOTER_BYTES as usize];
        read_at(&file, &mut footer, len - FOOTER_BYTES).map_err(|e| Error::io("read", path, e))?;
        let (n_days, table_at) = (u64_at(&footer, 0), u64_at(&footer, 8));
        if &footer[48..] != MAGIC || n_days > MAX_DAYS {
            return Err(damaged(path, "not a key file of this version"));
        }
        let table_len = n_days * ENTRY_BYTES as u64;
        if table_at.checked_add(table_len) != Some(len - FOOTER_BYTES) {
            return Err(damaged(path, "its table is not where its footer says"));
        }
        let mut table = vec![0u8; table_len as usize];
        read_at(&file, &mut table, table_at).map_err(|e| Error::io("read", path, e))?;
        if sha2::Sha256::digest(&table)[..] != footer[16..48] {
            return Err(damaged(path, "its table does not match its checksum"));
        }
        let mut head = [0u8; 8];
        read_at(&file, &mut head, 0).map_err(|e| Error::io("read", path, e))?;
        if &head != MAGIC {
            return Err(damaged(path, "not a key file of this version"));
        }
        let mut days = Vec::with_capacity(n_days as usize);
        let mut next = MAGIC.len() as u64;
        for e in table.chunks_exact(ENTRY_BYTES) {
            let mut sum = [0u8; 32];
            sum.copy_from_slice(&e[24..]);
            let entry = DayEntry {
                day: u64_at(e, 0) as i64,
                offset: u64_at(e, 8),
                count: u64_at(e, 16),
                sum,
            };
            let ordered = days.last().is_none_or(|p: &DayEntry| p.day < entry.day);
            if !ordered || entry.offset != next || entry.count > MAX_DAY_KEYS {
                return Err(damaged(path, "its table lists days out of order"));
            }
            next += entry.count * 16;
            days.push(entry);
        }
        if next != table_at {
            return Err(damaged(path, "its table does not cover its keys"));
        }
        Ok(Some(MonthFile { path: path.to_owned(), days }))
    }

    /// The keys of `day` (sorted; none when the month holds no such day), appended to `out`.
    pub fn read_day(&self, day: i64, out: &mut Vec<u128>) -> Result<(), Error> {
        let Some(e) = self.days.iter().find(|e| e.day == day) else { return Ok(()) };
        let mut bytes = vec![0u8; (e.count * 16) as usize];
        File::open(&self.path)
            .and_then(|f| read_at(&f, &mut bytes, e.offset))
            .map_err(|x| Error::io("read", &self.path, x))?;
        if sha2::Sha256::digest(&bytes)[..] != e.sum {
            return Err(damaged(&self.path, "a day's keys do not match their checksum"));
        }
        decode_keys(&bytes, out);
        Ok(())
    }
}

/// Keys as stored: 16 bytes each, little-endian.
pub(crate) fn encode_keys(keys: &[u128], out: &mut Vec<u8>) {
    out.reserve(keys.len() * 16);
    for k in keys {
        out.extend_from_slice(&k.to_le_bytes());
    }
}

/// The keys in `bytes` ([`encode_keys`]), appended to `out`.
pub(crate) fn decode_keys(bytes: &[u8], out: &mut Vec<u128>) {
    out.reserve(bytes.len() / 16);
    out.extend(bytes.chunks_exact(16).map(|k| {
        let mut b = [0u8; 16];
        b.copy_from_slice(k);
        u128::from_le_bytes(b)
    }));
}

/// Writes a month file a day at a time (ascending days, each day's keys sorted and distinct).
pub(crate) struct MonthWriter<'a> {
    out: &'a mut dyn Write,
    at: u64,
    table: Vec<u8>,
    block: Vec<u8>,
}

impl<'a> MonthWriter<'a> {
    pub fn start(out: &'a mut dyn Write) -> std::io::Result<MonthWriter<'a>> {
        out.write_all(MAGIC)?;
        Ok(MonthWriter { out, at: MAGIC.len() as u64, table: Vec::new(), block: Vec::new() })
    }

    /// The keys of `day`.
    pub fn day(&mut self, day: i64, keys: &[u128]) -> std::io::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.block.clear();
        encode_keys(keys, &mut self.block);
        self.out.write_all(&self.block)?;
        self.table.extend_from_slice(&day.to_le_bytes());
        self.table.extend_from_slice(&self.at.to_le_bytes());
        self.table.extend_from_slice(&(keys.len() as u64).to_le_bytes());
        self.table.extend_from_slice(&sha2::Sha256::digest(&self.block));
        self.at += self.block.len() as u64;
        Ok(())
    }

    /// The table and footer.
    pub fn finish(self) -> std::io::Result<()> {
        let n_days = (self.table.len() / ENTRY_BYTES) as u64;
        self.out.write_all(&self.table)?;
        self.out.write_all(&n_days.to_le_bytes())?;
        self.out.write_all(&self.at.to_le_bytes())?;
        self.out.write_all(&sha2::Sha256::digest(&self.table))?;
        self.out.write_all(MAGIC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Day numbers of known dates map to their months (an independent table of dates).
    #[test]
    fn months_of_known_days() {
        let cases = [
            (0, "1970-01.keys"),
            (31, "1970-02.keys"),
            (59, "1970-03.keys"), // 1970 is not a leap year
            (-1, "1969-12.keys"),
            (11_016, "2000-02.keys"), // 2000-02-29 is day 11016
            (11_017, "2000-03.keys"),
            (20_787, "2026-11.keys"), // 2026-11-30
            (20_788, "2026-12.keys"),
        ];
        for (day, name) in cases {
            assert_eq!(month_of(day).1, name, "day {day}");
        }
        assert_eq!(month_of(20_788).0 - month_of(20_787).0, 1);
        assert_eq!(month_of(0).0, 1970 * 12);
    }

    fn write(path: &Utf8Path, days: &[(i64, Vec<u128>)]) {
        let mut bytes = Vec::new();
        let mut w = MonthWriter::start(&mut bytes).unwrap();
        for (d, keys) in days {
            w.day(*d, keys).unwrap();
        }
        w.finish().unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn days_read_back_and_damage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().join("m.keys")).unwrap();
        assert!(MonthFile::open(&path).unwrap().is_none());
        let days = vec![(3, vec![1u128, 5, u128::MAX]), (4, vec![]), (9, vec![7u128])];
        write(&path, &days);
        let m = MonthFile::open(&path).unwrap().unwrap();
        assert_eq!(m.days.iter().map(|e| e.day).collect::<Vec<_>>(), [3, 9]);
        for (d, keys) in &days {
            let mut got = Vec::new();
            m.read_day(*d, &mut got).unwrap();
            assert_eq!(&got, keys);
        }
        let clean = std::fs::read(&path).unwrap();
        // Every single flipped byte is caught, when the file is opened or when its day is read.
        for i in 0..clean.len() {
            let mut bad = clean.clone();
            bad[i] ^= 0x40;
            std::fs::write(&path, &bad).unwrap();
            let caught = match MonthFile::open(&path) {
                Err(Error::State { .. }) => true,
                Ok(Some(m)) => {
                    let mut sink = Vec::new();
                    [3, 9].iter().any(|d| m.read_day(*d, &mut sink).is_err())
                }
                other => panic!("byte {i}: {other:?}"),
            };
            assert!(caught, "byte {i} flipped went unnoticed");
        }
        // Cut short anywhere: refused when opened, or its days cannot all be read.
        for len in 0..clean.len() {
            std::fs::write(&path, &clean[..len]).unwrap();
            let caught = match MonthFile::open(&path) {
                Err(_) => true,
                Ok(Some(m)) => [3, 9].iter().any(|d| m.read_day(*d, &mut Vec::new()).is_err()),
                Ok(None) => false,
            };
            assert!(caught, "cut to {len} bytes went unnoticed");
        }
    }
}
