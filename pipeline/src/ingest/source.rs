//! Reading input files as records, each with its line number and its text
//! exactly as read, without holding more than one record in memory.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::contract::{FieldError, Format, RawValue, Reason};
use crate::error::{Error, Result};

/// One record of an input file.
#[derive(Debug, Clone)]
pub(crate) struct SourceRecord {
    /// The line the record starts on, from 1.
    pub(crate) line: u64,
    /// The record's text as read, without its line ending (invalid UTF-8 replaced).
    pub(crate) raw: String,
    /// Its fields.
    pub(crate) data: RecordData,
    /// Bytes of the file read so far.
    pub(crate) offset: u64,
}

/// The fields of a record, or why there are none.
#[derive(Debug, Clone)]
pub(crate) enum RecordData {
    /// A CSV row; `width_error` when it has the wrong number of columns (its
    /// fields are still there, to find the order it belongs to).
    Csv { fields: csv::ByteRecord, width_error: Option<FieldError> },
    /// A JSON object.
    Json(serde_json::Value),
    /// A record that could not be read at all.
    Broken(FieldError),
}

/// Where a field's value is, resolved against one file.
#[derive(Debug, Clone)]
pub(crate) enum Resolved {
    /// A CSV column index, from 0.
    Index(usize),
    /// A JSON key path.
    Path(Vec<String>),
}

impl RecordData {
    /// The raw value at `at` (for JSON, `base` is the object paths start from).
    pub(crate) fn get<'a>(
        &'a self,
        at: &Resolved,
        base: Option<&'a serde_json::Value>,
    ) -> RawValue<'a> {
        match (self, at) {
            (RecordData::Csv { fields, .. }, Resolved::Index(i)) => match fields.get(*i) {
                None => RawValue::Absent,
                Some(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) => RawValue::Text(Cow::Borrowed(text)),
                    Err(_) => RawValue::NotUtf8,
                },
            },
            (RecordData::Json(root), Resolved::Path(path)) => json_at(base.unwrap_or(root), path),
            _ => RawValue::Absent,
        }
    }
}

/// The value at a key path of a JSON object.
pub(crate) fn json_at<'a>(mut value: &'a serde_json::Value, path: &[String]) -> RawValue<'a> {
    for key in path {
        match value.get(key) {
            Some(next) => value = next,
            None => return RawValue::Absent,
        }
    }
    match value {
        serde_json::Value::Null => RawValue::Null,
        serde_json::Value::String(s) => RawValue::Text(Cow::Borrowed(s)),
        serde_json::Value::Number(n) => RawValue::Text(Cow::Owned(n.to_string())),
        serde_json::Value::Bool(b) => {
            RawValue::Text(Cow::Borrowed(if *b { "true" } else { "false" }))
        }
        _ => RawValue::NotScalar,
    }
}

/// How an input file is written: enough to read its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileFormat {
    /// CSV or JSONL.
    pub(crate) format: Format,
    /// The CSV field delimiter.
    pub(crate) delimiter: u8,
    /// Whether a CSV file starts with a header row naming the columns.
    pub(crate) header: bool,
    /// Whether a CSV row may end in one extra, empty field (a delimiter at
    /// the end of every row, as database exports write them).
    pub(crate) trailing_delimiter: bool,
}

/// Records of one input file.
pub(crate) struct Source {
    path: PathBuf,
    kind: SourceKind,
    /// Column name → index, from the header row.
    header: Option<HashMap<String, usize>>,
    width: Option<usize>,
    trailing_delimiter: bool,
    /// The bytes and fields of the last CSV record, which size the next
    /// record's buffers: one allocation each, not a doubling per field.
    shape: (usize, usize),
}

enum SourceKind {
    Csv(csv::Reader<Tee<File>>),
    Jsonl { reader: BufReader<File>, line: u64, offset: u64 },
}

impl Source {
    /// Opens `path` for `contract`; reads the header row of a CSV file that has one.
    ///
    /// `width` is the declared column count for a headerless file.
    pub(crate) fn open(path: &Path, format: FileFormat, width: Option<usize>) -> Result<Self> {
        let file =
            File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        let kind = match format.format {
            Format::Csv => SourceKind::Csv(
                csv::ReaderBuilder::new()
                    .delimiter(format.delimiter)
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(Tee::new(file)),
            ),
            Format::Jsonl => SourceKind::Jsonl { reader: BufReader::new(file), line: 0, offset: 0 },
        };
        let mut source = Source {
            path: path.to_owned(),
            kind,
            header: None,
            width,
            trailing_delimiter: format.trailing_delimiter,
            shape: (0, 0),
        };
        if format.format == Format::Csv && format.header {
            source.read_header()?;
        }
        Ok(source)
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the file read so far.
    pub(crate) fn consumed(&self) -> u64 {
        match &self.kind {
            SourceKind::Csv(reader) => reader.position().byte(),
            SourceKind::Jsonl { offset, .. } => *offset,
        }
    }

    /// The index of the column the header names `name`; `None` without a
    /// header or without such a column.
    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.header.as_ref()?.get(name).copied()
    }

    /// The column names of the header, sorted (none without a header).
    pub(crate) fn column_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> =
            self.header.iter().flat_map(|h| h.keys().map(String::as_str)).collect();
        names.sort_unstable();
        names
    }

    fn read_header(&mut self) -> Result<()> {
        let SourceKind::Csv(reader) = &mut self.kind else { return Ok(()) };
        let mut record = csv::ByteRecord::new();
        let read = reader.read_byte_record(&mut record).map_err(|e| Error::Input {
            path: self.path.clone(),
            line: Some(1),
            message: format!("cannot read the header row: {e}"),
        })?;
        if !read {
            return Err(Error::Input {
                path: self.path.clone(),
                line: None,
                message: "the file is empty".into(),
            });
        }
        let mut names = HashMap::new();
        for (i, bytes) in record.iter().enumerate() {
            let bytes =
                if i == 0 { bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes) } else { bytes };
            let name = String::from_utf8_lossy(bytes).trim().to_owned();
            if names.insert(name.clone(), i).is_some() {
                return Err(Error::Input {
                    path: self.path.clone(),
                    line: Some(1),
                    message: format!("the header names column {name:?} twice"),
                });
            }
        }
        // A header ending in the delimiter names no last column.
        let mut width = record.len();
        if self.trailing_delimiter && names.get("") == Some(&(width - 1)) {
            names.remove("");
            width -= 1;
        }
        self.width = Some(width);
        self.header = Some(names);
        let consumed = reader.position().byte();
        reader.get_mut().consume_to(consumed);
        Ok(())
    }

    /// The next record, or `None` at the end of the file.
    pub(crate) fn next_record(&mut self) -> Result<Option<SourceRecord>> {
        match &mut self.kind {
            SourceKind::Csv(reader) => {
                // A quarter more than the last record, so that most fit
                // without the parser growing them.
                let (bytes, count) = self.shape;
                let mut fields = csv::ByteRecord::with_capacity(bytes + bytes / 4, count + 1);
                let started = reader.position().clone();
                match reader.read_byte_record(&mut fields) {
                    Ok(false) => Ok(None),
                    Ok(true) => {
                        self.shape = (fields.as_slice().len(), fields.len());
                        let start = fields.position().map_or(started.byte(), |p| p.byte());
                        let line = fields.position().map_or(started.line(), |p| p.line());
                        let end = reader.position().byte();
                        let raw = reader.get_mut().take_text(start, end);
                        if self.trailing_delimiter
                            && self.width.is_some_and(|w| fields.len() == w + 1)
                            && fields.get(fields.len() - 1).is_some_and(<[u8]>::is_empty)
                        {
                            fields.truncate(fields.len() - 1);
                        }
                        let width_error = self.width.filter(|w| *w != fields.len()).map(|w| {
                            FieldError::new(
                                Reason::WrongColumnCount,
                                format!("{} columns, the file has {w}", fields.len()),
                            )
                        });
                        Ok(Some(SourceRecord {
                            line,
                            raw,
                            data: RecordData::Csv { fields, width_error },
                            offset: end,
                        }))
                    }
                    Err(e) => Err(Error::Input {
                        path: self.path.clone(),
                        line: Some(started.line()),
                        message: format!("cannot read the file: {e}"),
                    }),
                }
            }
            SourceKind::Jsonl { reader, line, offset } => loop {
                let mut bytes = Vec::new();
                let read = reader
                    .read_until(b'\n', &mut bytes)
                    .map_err(|source| Error::Io { path: self.path.clone(), source })?;
                if read == 0 {
                    return Ok(None);
                }
                *line += 1;
                *offset += read as u64;
                while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                    bytes.pop();
                }
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let raw = String::from_utf8_lossy(&bytes).into_owned();
                let data = match std::str::from_utf8(&bytes) {
                    Err(_) => RecordData::Broken(FieldError::new(
                        Reason::InvalidUtf8,
                        "the line is not UTF-8",
                    )),
                    Ok(text) => match serde_json::from_str::<serde_json::Value>(text) {
                        Ok(value @ serde_json::Value::Object(_)) => RecordData::Json(value),
                        Ok(_) => RecordData::Broken(FieldError::new(
                            Reason::InvalidJson,
                            "the line is not a JSON object",
                        )),
                        Err(e) => {
                            RecordData::Broken(FieldError::new(Reason::InvalidJson, e.to_string()))
                        }
                    },
                };
                return Ok(Some(SourceRecord { line: *line, raw, data, offset: *offset }));
            },
        }
    }
}

/// A reader that keeps the bytes it passed on since the last record, so the
/// exact text of a CSV record can be cut out by the parser's byte positions.
pub(crate) struct Tee<R> {
    inner: R,
    kept: Vec<u8>,
    /// File offset of `kept[0]`.
    base: u64,
}

impl<R> Tee<R> {
    fn new(inner: R) -> Self {
        Self { inner, kept: Vec::with_capacity(64 * 1024), base: 0 }
    }

    /// The text of bytes `start..end` of the file, line ending removed; drops everything before `end`.
    fn take_text(&mut self, start: u64, end: u64) -> String {
        let from = (start.saturating_sub(self.base) as usize).min(self.kept.len());
        let to = (end.saturating_sub(self.base) as usize).min(self.kept.len());
        let mut bytes = &self.kept[from..to.max(from)];
        while let [rest @ .., b'\n' | b'\r'] = bytes {
            bytes = rest;
        }
        let text = String::from_utf8_lossy(bytes).into_owned();
        self.consume_to(end);
        text
    }

    fn consume_to(&mut self, end: u64) {
        let upto = (end.saturating_sub(self.base) as usize).min(self.kept.len());
        self.kept.drain(..upto);
        self.base += upto as u64;
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}
