//! The records of a file in the order of their join key, whatever order the
//! file has them in, in bounded memory.
//!
//! Records are held until they take `memory` bytes, then sorted and written
//! to an anonymous temporary file (a run); at the end the runs are merged.
//! Equal keys keep their file order. Memory stays near `memory` whatever the
//! input's size; the disk holds about one copy of the records sorted, and
//! the temporary files vanish with the sorter (also when the process is
//! killed: they have no name).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::source::{RecordData, SourceRecord};
use crate::contract::{FieldError, Reason};

/// Sorts `(key, record)` pairs by key.
pub(crate) struct Sorter {
    memory: usize,
    held: Vec<(String, SourceRecord)>,
    held_bytes: usize,
    runs: Vec<File>,
}

impl Sorter {
    /// A sorter that spills to disk past about `memory` bytes of records.
    pub(crate) fn new(memory: usize) -> Self {
        Self { memory: memory.max(1), held: Vec::new(), held_bytes: 0, runs: Vec::new() }
    }

    /// Adds a record with its key.
    pub(crate) fn push(&mut self, key: String, record: SourceRecord) -> io::Result<()> {
        self.held_bytes += size(&key, &record);
        self.held.push((key, record));
        if self.held_bytes >= self.memory {
            self.spill()?;
        }
        Ok(())
    }

    /// How many runs went to disk.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    fn spill(&mut self) -> io::Result<()> {
        self.held.sort_by(|a, b| a.0.cmp(&b.0));
        let mut file = BufWriter::new(tempfile::tempfile()?);
        for (key, record) in self.held.drain(..) {
            encode(&mut file, &key, &record)?;
        }
        let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        self.held_bytes = 0;
        Ok(())
    }

    /// The records by key; records of equal keys in the order they were pushed.
    pub(crate) fn finish(mut self) -> io::Result<Sorted> {
        if self.runs.is_empty() {
            self.held.sort_by(|a, b| a.0.cmp(&b.0));
            return Ok(Sorted {
                memory: self.held.into_iter(),
                runs: Vec::new(),
                heads: Vec::new(),
            });
        }
        if !self.held.is_empty() {
            self.spill()?;
        }
        let mut runs: Vec<BufReader<File>> = self.runs.into_iter().map(BufReader::new).collect();
        let heads = runs.iter_mut().map(decode).collect::<io::Result<Vec<_>>>()?;
        Ok(Sorted { memory: Vec::new().into_iter(), runs, heads })
    }
}

/// The sorted records, from memory or merged from the runs on disk.
pub(crate) struct Sorted {
    memory: std::vec::IntoIter<(String, SourceRecord)>,
    runs: Vec<BufReader<File>>,
    heads: Vec<Option<(String, SourceRecord)>>,
}

impl Iterator for Sorted {
    type Item = io::Result<(String, SourceRecord)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.runs.is_empty() {
            return self.memory.next().map(Ok);
        }
        // The smallest head; on equal keys the earlier run (pushed first).
        let (run, _) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|(key, _)| (i, key)))
            .min_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)))?;
        let next = match decode(&mut self.runs[run]) {
            Ok(next) => next,
            Err(e) => return Some(Err(e)),
        };
        std::mem::replace(&mut self.heads[run], next).map(Ok)
    }
}

/// About the bytes a held record takes.
fn size(key: &str, record: &SourceRecord) -> usize {
    let data = match &record.data {
        RecordData::Csv { fields, .. } => fields.as_slice().len() + 8 * fields.len(),
        RecordData::Json(value) => 64 * (1 + value.as_object().map_or(0, |o| o.len())),
        RecordData::Broken(error) => error.detail.len(),
    };
    key.len() + record.raw.len() + data + 96
}

fn put(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("a field over 4 GiB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}

fn encode(out: &mut impl Write, key: &str, record: &SourceRecord) -> io::Result<()> {
    put(out, key.as_bytes())?;
    out.write_all(&record.line.to_le_bytes())?;
    out.write_all(&record.offset.to_le_bytes())?;
    put(out, record.raw.as_bytes())?;
    match &record.data {
        RecordData::Csv { fields, width_error } => {
            out.write_all(&[0])?;
            out.write_all(&(fields.len() as u32).to_le_bytes())?;
            for field in fields {
                put(out, field)?;
            }
            match width_error {
                Some(error) => {
                    out.write_all(&[1])?;
                    put(out, error.detail.as_bytes())
                }
                None => out.write_all(&[0]),
            }
        }
        RecordData::Json(value) => {
            out.write_all(&[1])?;
            put(out, value.to_string().as_bytes())
        }
        RecordData::Broken(error) => {
            out.write_all(&[2])?;
            put(out, error.detail.as_bytes())
        }
    }
}

fn take(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0; 4];
    input.read_exact(&mut len)?;
    let mut bytes = vec![0; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn text(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(io::Error::other)
}

fn number(input: &mut impl Read) -> io::Result<u64> {
    let mut bytes = [0; 8];
    input.read_exact(&mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

/// The next entry of a run, `None` at its end.
fn decode(input: &mut BufReader<File>) -> io::Result<Option<(String, SourceRecord)>> {
    let key = match take(input) {
        Ok(key) => text(key)?,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    };
    let line = number(input)?;
    let offset = number(input)?;
    let raw = text(take(input)?)?;
    let mut tag = [0; 1];
    input.read_exact(&mut tag)?;
    let data = match tag[0] {
        0 => {
            let mut count = [0; 4];
            input.read_exact(&mut count)?;
            let mut fields = csv::ByteRecord::new();
            for _ in 0..u32::from_le_bytes(count) {
                fields.push_field(&take(input)?);
            }
            input.read_exact(&mut tag)?;
            let width_error = match tag[0] {
                0 => None,
                _ => Some(FieldError::new(Reason::WrongColumnCount, text(take(input)?)?)),
            };
            RecordData::Csv { fields, width_error }
        }
        1 => RecordData::Json(serde_json::from_slice(&take(input)?).map_err(io::Error::other)?),
        _ => RecordData::Broken(FieldError::new(Reason::InvalidJson, text(take(input)?)?)),
    };
    Ok(Some((key, SourceRecord { line, raw, data, offset })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: u64, fields: &[&str]) -> SourceRecord {
        SourceRecord {
            line,
            raw: fields.join("|"),
            data: RecordData::Csv {
                fields: fields.iter().map(|f| f.as_bytes()).collect(),
                width_error: line
                    .is_multiple_of(7)
                    .then(|| FieldError::new(Reason::WrongColumnCount, "3 columns, not 4")),
            },
            offset: line * 10,
        }
    }

    /// A record read back: key, line, fields, whether it had a width error.
    type Entry = (String, u64, Vec<String>, bool);

    fn sorted(memory: usize, keys: &[u32]) -> (usize, Vec<Entry>) {
        let mut sorter = Sorter::new(memory);
        for (i, key) in keys.iter().enumerate() {
            let key = key.to_string();
            sorter.push(key.clone(), record(i as u64 + 1, &[&key, "é", "x"])).unwrap();
        }
        let runs = sorter.runs();
        let out = sorter
            .finish()
            .unwrap()
            .map(|entry| {
                let (key, r) = entry.unwrap();
                let RecordData::Csv { fields, width_error } = r.data else { panic!("csv") };
                let fields =
                    fields.iter().map(|f| String::from_utf8(f.to_vec()).unwrap()).collect();
                (key, r.line, fields, width_error.is_some())
            })
            .collect();
        (runs, out)
    }

    #[test]
    fn records_come_out_by_key_in_memory_and_from_disk_alike() {
        // Numeric keys in numeric order are not in text order.
        let keys: Vec<u32> = (1..=500).chain(1..=40).collect();
        let (runs_memory, in_memory) = sorted(1 << 30, &keys);
        let (runs_disk, from_disk) = sorted(2_000, &keys);
        assert_eq!(runs_memory, 0);
        assert!(runs_disk > 5, "spilled to {runs_disk} runs");
        assert_eq!(in_memory, from_disk);
        let order: Vec<&str> = in_memory.iter().map(|(k, ..)| k.as_str()).collect();
        let mut text_order = order.clone();
        text_order.sort();
        assert_eq!(order, text_order);
        // Equal keys keep their file order; every field and error survives.
        let tens: Vec<u64> =
            in_memory.iter().filter(|(k, ..)| k == "10").map(|(_, l, ..)| *l).collect();
        assert_eq!(tens, [10, 510]);
        assert!(from_disk.iter().all(|(k, _, f, _)| f == &[k.clone(), "é".into(), "x".into()]));
        assert_eq!(from_disk.iter().filter(|(.., e)| *e).count(), keys.len() / 7);
    }
}
