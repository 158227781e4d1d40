//! The measured data sets (`surrogates/*.csv`): one row per architecture with its genes, genome,
//! derived features, measured accuracies and provenance.
//!
//! Format: a header line with [`columns`], then one row per architecture, read and written with
//! the `csv` crate. Fields holding a comma, a quote or a line break are quoted (`"..."`, a quote
//! doubled); the `genome` column always is.
//! Gene columns of main blocks beyond `m` are empty; `ct` is written `A`..`D`. The genome JSON is
//! the truth: on reading, the id and the gene columns must agree with it, so a hand edit of one
//! of them is caught. Drift columns of a time that was not measured are empty. Numbers are
//! written in Rust's shortest round-trip form, so writing and reading gives identical values.

use super::SurrogateError;
use crate::error::{Error, Result, excerpt, one_line, quoted};
use crate::measure::{DRIFT_TIMES, DriftPoint, Measurement};
use crate::nn::Arch;
use crate::space::{Genome, MAX_BLOCKS, MainBlock};
use crate::task::Task;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a measured row comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// Task the architecture was trained and tested on.
    pub task: Task,
    /// Name of the search space the architecture was sampled from.
    pub space: String,
    /// Name of the hardware profile (`HwProfile::name`).
    pub profile: String,
    /// Training budget, as the measurer describes it (e.g. `epochs=3 reps=5`).
    pub budget: String,
    /// analognas version that measured the row.
    pub version: String,
}

impl Provenance {
    /// Provenance with this crate's version.
    pub fn new(
        task: Task,
        space: impl Into<String>,
        profile: impl Into<String>,
        budget: impl Into<String>,
    ) -> Self {
        Provenance {
            task,
            space: space.into(),
            profile: profile.into(),
            budget: budget.into(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// One row of a measured data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The measurement.
    pub measurement: Measurement,
    /// Where it comes from.
    pub provenance: Provenance,
}

impl Row {
    /// The measured architecture (the genome on the row's task).
    pub fn arch(&self) -> Arch {
        Arch::for_task(self.measurement.genome.clone(), self.provenance.task)
    }

    /// The surrogate features of the row, with the tile count as measured.
    pub fn features(&self) -> Vec<f64> {
        super::features::features_with_tiles(&self.arch(), self.measurement.tiles)
    }

    /// The first non-finite number of the row, as `(column, value)`.
    pub fn non_finite(&self) -> Option<(String, f64)> {
        let m = &self.measurement;
        let mut values = vec![
            ("utilisation".to_string(), m.utilisation),
            ("acc_fp".to_string(), m.acc_fp),
            ("acc_1d".to_string(), m.acc_1d),
            ("acc_1d_std".to_string(), m.acc_1d_std),
            ("avm".to_string(), m.avm),
            ("train_seconds".to_string(), m.train_seconds),
        ];
        if let Some(q) = &m.precision {
            values.push(("acc_1d_se".to_string(), q.acc_1d_se));
            values.push(("avm_se".to_string(), q.avm_se));
        }
        for p in &m.drift {
            let label = crate::measure::time_label(p.t_seconds);
            values.push((format!("acc_{label}_mean"), p.mean));
            values.push((format!("acc_{label}_std"), p.std));
        }
        values.into_iter().find(|(_, v)| !v.is_finite())
    }
}

/// A data set read from a file: its rows and the line each starts on.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The file, as named in errors.
    pub file: String,
    /// The rows in file order.
    pub rows: Vec<Row>,
    /// The 1-based line of each row.
    pub lines: Vec<usize>,
    /// Whether the file was written before the precision columns ([`PRECISION_COLUMNS`]).
    pub legacy: bool,
}

impl Dataset {
    /// Reads a data set file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::error::read_to_string(path)?;
        parse(&path.display().to_string(), &text)
    }

    /// An error on row `i`, column `column`: `FILE:LINE: column NAME: MSG`.
    pub fn row_error(&self, i: usize, column: &str, msg: &str) -> Error {
        SurrogateError::Cell {
            file: self.file.clone(),
            line: self.lines[i] as u64,
            column: column.into(),
            message: msg.into(),
        }
        .into()
    }

    /// Checks that every row has the same task and profile, and returns them.
    pub fn task_and_profile(&self) -> Result<(Task, String)> {
        let Some(first) = self.rows.first() else {
            return Err(SurrogateError::TooFewRows {
                file: self.file.clone(),
                expected: "one row".into(),
                got: "none".into(),
            }
            .into());
        };
        let p = &first.provenance;
        for (i, r) in self.rows.iter().enumerate() {
            if r.provenance.task != p.task {
                return Err(self.row_error(
                    i,
                    "task",
                    &format!(
                        "expected {} (as on line {}), got {}",
                        p.task, self.lines[0], r.provenance.task
                    ),
                ));
            }
            if r.provenance.profile != p.profile {
                return Err(self.row_error(
                    i,
                    "profile",
                    &format!(
                        "expected {} (as on line {}), got {}",
                        p.profile, self.lines[0], r.provenance.profile
                    ),
                ));
            }
        }
        Ok((p.task, p.profile.clone()))
    }
}

/// The column names, in order.
pub fn columns() -> Vec<String> {
    let mut c: Vec<String> = ["id", "oc0", "ks0", "m"].map(String::from).to_vec();
    for gene in ["r", "ct", "wf", "b"] {
        c.extend((1..=MAX_BLOCKS).map(|i| format!("{gene}{i}")));
    }
    c.extend(
        [
            "genome",
            "params",
            "macs",
            "tiles",
            "utilisation",
            "depth",
            "acc_fp",
        ]
        .map(String::from),
    );
    for (label, _) in DRIFT_TIMES {
        c.push(format!("acc_{label}_mean"));
        c.push(format!("acc_{label}_std"));
    }
    c.extend(
        [
            "avm",
            "train_seconds",
            "seed",
            "task",
            "space",
            "profile",
            "budget",
            "version",
        ]
        .map(String::from),
    );
    c.extend(PRECISION_COLUMNS.map(String::from));
    c
}

/// The last columns: the precision of the drift means ([`crate::measure::Precision`]). Files
/// written before they existed end at `version`; they are read with these cells empty.
pub const PRECISION_COLUMNS: [&str; 4] = ["samples", "reps", "acc_1d_se", "avm_se"];

/// The header line (no line break).
pub fn header_line() -> String {
    columns().join(",")
}

/// One row as the csv crate reads and writes it: every cell as text, in [`columns`] order
/// (serde visits the fields and the arrays' elements in declaration order). Numbers are
/// written with Rust's `Display` (shortest round-trip, never an exponent) and parsed, with
/// their column named in errors, by [`Record::into_row`].
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    id: String,
    oc0: String,
    ks0: String,
    m: String,
    r: [String; MAX_BLOCKS],
    ct: [String; MAX_BLOCKS],
    wf: [String; MAX_BLOCKS],
    b: [String; MAX_BLOCKS],
    genome: String,
    params: String,
    macs: String,
    tiles: String,
    utilisation: String,
    depth: String,
    acc_fp: String,
    /// `(mean, std)` per [`DRIFT_TIMES`] entry; empty when not measured.
    drift: [(String, String); DRIFT_TIMES.len()],
    avm: String,
    train_seconds: String,
    seed: String,
    task: String,
    space: String,
    profile: String,
    budget: String,
    version: String,
    samples: String,
    reps: String,
    acc_1d_se: String,
    avm_se: String,
}

/// A block gene of every main block: its value as text, empty beyond the genome's blocks.
fn genes(g: &Genome, gene: impl Fn(&MainBlock) -> String) -> [String; MAX_BLOCKS] {
    std::array::from_fn(|i| g.blocks.get(i).map(&gene).unwrap_or_default())
}

impl From<&Row> for Record {
    fn from(row: &Row) -> Self {
        let (m, p, g) = (&row.measurement, &row.provenance, &row.measurement.genome);
        let drift = DRIFT_TIMES.map(|(_, t)| {
            match m.drift.iter().find(|p| (p.t_seconds - t).abs() < 1e-9) {
                Some(p) => (p.mean.to_string(), p.std.to_string()),
                None => Default::default(),
            }
        });
        Record {
            id: m.id.clone(),
            oc0: g.oc0.to_string(),
            ks0: g.ks0.to_string(),
            m: g.m().to_string(),
            r: genes(g, |b| b.r.to_string()),
            ct: genes(g, |b| b.ct.to_string()),
            wf: genes(g, |b| b.wf.to_string()),
            b: genes(g, |b| b.b.to_string()),
            genome: g.canonical_json(),
            params: m.params.to_string(),
            macs: m.macs.to_string(),
            tiles: m.tiles.to_string(),
            utilisation: m.utilisation.to_string(),
            depth: m.depth.to_string(),
            acc_fp: m.acc_fp.to_string(),
            drift,
            avm: m.avm.to_string(),
            train_seconds: m.train_seconds.to_string(),
            seed: m.seed.to_string(),
            task: p.task.to_string(),
            space: p.space.clone(),
            profile: p.profile.clone(),
            budget: p.budget.clone(),
            version: p.version.clone(),
            samples: m
                .precision
                .map(|q| q.samples.to_string())
                .unwrap_or_default(),
            reps: m.precision.map(|q| q.reps.to_string()).unwrap_or_default(),
            acc_1d_se: m
                .precision
                .map(|q| q.acc_1d_se.to_string())
                .unwrap_or_default(),
            avm_se: m
                .precision
                .map(|q| q.avm_se.to_string())
                .unwrap_or_default(),
        }
    }
}

/// Writes records without a header: fields quoted only when they hold a comma, a quote or a
/// line break (quotes doubled), one `\n` after each record.
fn write_records<'a>(records: impl IntoIterator<Item = &'a Row>) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for r in records {
        w.serialize(Record::from(r))
            .expect("a record of strings serializes to memory");
    }
    let bytes = w.into_inner().expect("writing to memory does not fail");
    String::from_utf8(bytes).expect("the fields are UTF-8")
}

/// One row as a CSV line (no line break).
pub fn row_line(row: &Row) -> String {
    let mut s = write_records([row]);
    s.pop();
    s
}

/// A whole file: the header and one line per row.
pub fn to_csv(rows: &[Row]) -> String {
    header_line() + "\n" + &write_records(rows)
}

/// Writes `rows` to `path` atomically (temporary file, then rename).
pub fn write(path: impl AsRef<Path>, rows: &[Row]) -> Result<()> {
    crate::error::write_atomic(path, to_csv(rows).as_bytes())
}

/// Appends `rows` to the data set at `path` (created when missing). The existing file is read
/// and checked first, and the whole file is rewritten atomically, so a kill at any moment
/// leaves either the old file or the new one.
pub fn append(path: impl AsRef<Path>, rows: &[Row]) -> Result<()> {
    let path = path.as_ref();
    let text = existing_text(path)? + &write_records(rows);
    crate::error::write_atomic(path, text.as_bytes())
}

/// The checked text of the data set at `path` ending in a line break, or a bare header when the
/// file does not exist.
pub(crate) fn existing_text(path: &Path) -> Result<String> {
    if !path.exists() {
        return Ok(header_line() + "\n");
    }
    let mut text = crate::error::read_to_string(path)?;
    let data = parse(&path.display().to_string(), &text)?;
    if data.legacy {
        // Written before the precision columns: rewritten whole in the current format (the
        // old rows keep empty precision cells), so that every line has the same columns.
        return Ok(to_csv(&data.rows));
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Parses a data set; `file` names it in errors (`FILE:LINE: column NAME: expected ..., got ...`).
/// Accepts `\n` and `\r\n` line ends, a missing final line break and a UTF-8 byte-order mark;
/// blank lines are skipped.
///
/// Every cell is checked: the genome within the absolute gene limits and agreeing with the id
/// and gene columns; accuracies (`acc_fp`, `acc_*_mean`) in 0..=100 %, spreads (`acc_*_std`)
/// in 0..=100 points, `avm` in -100..=100, `utilisation` in 0..=1, counts and
/// `train_seconds` not negative. A genome id on two rows with different values is an error
/// naming the line and the first column that differs; a row repeated identically (two files
/// concatenated) is kept once.
pub fn parse(file: &str, text: &str) -> Result<Dataset> {
    let cols = columns();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = records
        .next()
        .transpose()
        .map_err(|e| csv_error(file, &cols, e))?;
    let Some(header) = header else {
        return Err(SurrogateError::EmptyFile {
            file: file.into(),
            expected: cols[..4].join(","),
        }
        .into());
    };
    let hline = line_of(text, &header);
    let end = "the end of the line";
    let n_legacy = cols.len() - PRECISION_COLUMNS.len();
    let legacy = header.len() == n_legacy && header.iter().zip(&cols).all(|(h, c)| h == c);
    let cols_in_file = if legacy { n_legacy } else { cols.len() };
    for i in 0..cols_in_file.max(header.len()) {
        let want = cols[..cols_in_file].get(i).map_or(end, |s| s);
        let got = header.get(i).unwrap_or(end);
        if got != want {
            return Err(SurrogateError::Header {
                file: file.into(),
                line: hline,
                column: i + 1,
                expected: want.into(),
                got: excerpt(got),
            }
            .into());
        }
    }
    let mut data = Dataset {
        file: file.to_string(),
        rows: Vec::new(),
        lines: Vec::new(),
        legacy,
    };
    // The index in `data.rows` of each id's first row.
    let mut first: std::collections::HashMap<String, usize> = Default::default();
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, &cols, e))?;
        let line = line_of(text, &rec);
        let cell = |column: &str, message: String| SurrogateError::Cell {
            file: file.into(),
            line,
            column: column.into(),
            message,
        };
        let n = cols_in_file;
        if rec.len() > n {
            let extra = rec.len() - n;
            return Err(cell(
                &cols[n - 1],
                format!(
                    "expected the end of the row, got {extra} extra field(s) (an unquoted comma?)"
                ),
            )
            .into());
        }
        if rec.len() < n {
            return Err(cell(
                &cols[rec.len()],
                format!(
                    "expected a value, got the end of the row ({} of {n} fields; truncated row?)",
                    rec.len()
                ),
            )
            .into());
        }
        let mut rec = rec;
        for _ in n..cols.len() {
            rec.push_field("");
        }
        let record: Record = rec
            .deserialize(None)
            .map_err(|e| csv_error(file, &cols, e))?;
        let row = record.into_row(file, line)?;
        match first.get(&row.measurement.id) {
            // An identical repeat (two data sets concatenated) is the same measurement: kept once.
            Some(&i) if data.rows[i] == row => continue,
            Some(&i) => return Err(conflict(file, line, data.lines[i], &data.rows[i], &row)),
            None => {
                first.insert(row.measurement.id.clone(), data.rows.len());
            }
        }
        data.rows.push(row);
        data.lines.push(line as usize);
    }
    Ok(data)
}

/// The error of a row whose id is on an earlier row with other values: names the first
/// column that differs.
fn conflict(file: &str, line: u64, first_line: usize, first: &Row, row: &Row) -> Error {
    let cells = |r: &Row| -> Vec<String> {
        let text = row_line(r);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        reader
            .records()
            .next()
            .and_then(|r| r.ok())
            .map(|r| r.iter().map(String::from).collect())
            .unwrap_or_default()
    };
    let (a, b) = (cells(first), cells(row));
    let cols = columns();
    let i = (0..cols.len()).find(|&i| a.get(i) != b.get(i)).unwrap_or(0);
    let show = |v: Option<&String>| v.map_or(String::new(), |s| s.clone());
    SurrogateError::Cell {
        file: file.into(),
        line,
        column: cols[i].clone(),
        message: format!(
            "expected {} as on line {first_line} (the same id {}; one measurement per genome), got {}",
            quoted(&show(a.get(i))),
            row.measurement.id,
            quoted(&show(b.get(i)))
        ),
    }
    .into()
}

/// The 1-based line of a record's first byte. (The csv crate's line number is where it started
/// reading the record, before the blank lines it skips.)
fn line_of(text: &str, rec: &csv::StringRecord) -> u64 {
    let p = rec
        .position()
        .expect("records read from text have positions");
    let rest = text.as_bytes().get(p.byte() as usize..).unwrap_or_default();
    let blank = rest.iter().take_while(|c| matches!(c, b'\n' | b'\r'));
    p.line() + blank.filter(|&&c| c == b'\n').count() as u64
}

/// A csv crate error as a one-line data-set error. (Reading text with flexible records into
/// a record of strings leaves the crate little to reject.)
fn csv_error(file: &str, cols: &[String], e: csv::Error) -> Error {
    let column = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => err.field().map_or(0, |f| f as usize),
        _ => 0,
    };
    SurrogateError::Cell {
        file: file.into(),
        line: e.position().map_or(0, |p| p.line()),
        column: cols.get(column).map_or("(extra)", |s| s).to_string(),
        message: format!("expected CSV text, got {e}"),
    }
    .into()
}

impl Record {
    /// Checks the record's cells and builds the row; `file` and `line` name it in errors.
    fn into_row(self, file: &str, line: u64) -> std::result::Result<Row, SurrogateError> {
        let err = |column: &str, message: String| SurrogateError::Cell {
            file: file.into(),
            line,
            column: column.into(),
            message,
        };
        let precision = read_precision(&self, &err)?;
        let float = |column: &str, s: &str| match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(err(
                column,
                format!("expected a finite number, got {}", quoted(s)),
            )),
        };
        let uint = |column: &str, s: &str| {
            let v = s.trim().parse::<u64>();
            v.map_err(|_| {
                err(
                    column,
                    format!("expected an integer >= 0, got {}", quoted(s)),
                )
            })
        };
        let size = |column: &str, s: &str| uint(column, s).map(|v| v as usize);
        // The genome is the truth; the id and gene columns must agree with it.
        let genome: Genome = serde_json::from_str(&self.genome).map_err(|e| {
            err(
                "genome",
                format!("expected a genome JSON, got {}", one_line(&e.to_string())),
            )
        })?;
        // Within the absolute gene limits, so that its features (a layer plan) stay small.
        genome.check("").map_err(|e| {
            let msg = e.to_string();
            err("genome", msg.trim_start_matches(": ").to_string())
        })?;
        if self.id != genome.id() {
            let msg = format!(
                "expected {} (the genome's id), got {}",
                genome.id(),
                quoted(&self.id)
            );
            return Err(err("id", msg));
        }
        let gene = |column: &str, got: &str, want: String| {
            let got = got.trim();
            if got == want {
                return Ok(());
            }
            let want = if want.is_empty() {
                "empty (no such main block in the genome)".to_string()
            } else {
                format!("{want} (as in the genome column)")
            };
            Err(err(column, format!("expected {want}, got {}", quoted(got))))
        };
        gene("oc0", &self.oc0, genome.oc0.to_string())?;
        gene("ks0", &self.ks0, genome.ks0.to_string())?;
        gene("m", &self.m, genome.m().to_string())?;
        let want = [
            ("r", genes(&genome, |b| b.r.to_string())),
            ("ct", genes(&genome, |b| b.ct.to_string())),
            ("wf", genes(&genome, |b| b.wf.to_string())),
            ("b", genes(&genome, |b| b.b.to_string())),
        ];
        for i in 0..MAX_BLOCKS {
            for ((name, want), got) in want.iter().zip([&self.r, &self.ct, &self.wf, &self.b]) {
                gene(&format!("{name}{}", i + 1), &got[i], want[i].clone())?;
            }
        }
        // Accuracies are percentages, spreads are >= 0, AVM is a difference of two accuracies.
        let in_range = |column: &str, s: &str, lo: f64, hi: f64, what: &str| {
            float(column, s).and_then(|v| {
                if (lo..=hi).contains(&v) {
                    Ok(v)
                } else {
                    Err(err(column, format!("expected {what}, got {}", quoted(s))))
                }
            })
        };
        let percent =
            |column: &str, s: &str| in_range(column, s, 0.0, 100.0, "a percentage in 0..=100");
        let spread = |column: &str, s: &str| {
            in_range(column, s, 0.0, 100.0, "a spread in 0..=100 percent points")
        };
        let opt = |s: &str| !s.trim().is_empty();
        let mut drift = Vec::new();
        for ((label, t), (mean, std)) in DRIFT_TIMES.iter().zip(&self.drift) {
            let (mean_col, std_col) = (format!("acc_{label}_mean"), format!("acc_{label}_std"));
            let mean_v = opt(mean).then(|| percent(&mean_col, mean)).transpose()?;
            let std_v = opt(std).then(|| spread(&std_col, std)).transpose()?;
            match (mean_v, std_v) {
                (Some(mean), Some(std)) => drift.push(DriftPoint {
                    t_seconds: *t,
                    mean,
                    std,
                }),
                (None, None) => {}
                (Some(_), None) => {
                    let msg = format!("expected a number ({mean_col} has one), got \"\"");
                    return Err(err(&std_col, msg));
                }
                (None, Some(_)) => {
                    let msg = format!("expected a number ({std_col} has one), got \"\"");
                    return Err(err(&mean_col, msg));
                }
            }
        }
        let one_day = drift
            .iter()
            .find(|p| p.t_seconds == 86_400.0)
            .cloned()
            .ok_or_else(|| err("acc_1d_mean", "expected a number, got \"\"".into()))?;
        let task = <Task as crate::choice::Choice>::parse(self.task.trim()).map_err(|_| {
            let msg = format!(
                "expected digits, mnist, cifar10, kws or vww, got {}",
                quoted(&self.task)
            );
            err("task", msg)
        })?;
        let measurement = Measurement {
            id: self.id,
            acc_fp: percent("acc_fp", &self.acc_fp)?,
            acc_1d: one_day.mean,
            acc_1d_std: one_day.std,
            drift,
            avm: in_range("avm", &self.avm, -100.0, 100.0, "a number in -100..=100")?,
            tiles: size("tiles", &self.tiles)?,
            utilisation: in_range(
                "utilisation",
                &self.utilisation,
                0.0,
                1.0,
                "a number in 0..=1",
            )?,
            params: size("params", &self.params)?,
            macs: size("macs", &self.macs)?,
            depth: size("depth", &self.depth)?,
            train_seconds: in_range(
                "train_seconds",
                &self.train_seconds,
                0.0,
                f64::MAX,
                "a number >= 0",
            )?,
            seed: uint("seed", &self.seed)?,
            precision,
            genome,
        };
        let provenance = Provenance {
            task,
            space: self.space,
            profile: self.profile,
            budget: self.budget,
            version: self.version,
        };
        Ok(Row {
            measurement,
            provenance,
        })
    }
}

/// The precision cells of a record: all four empty (a row measured before they were recorded)
/// or all four valid.
fn read_precision(
    r: &Record,
    err: &dyn Fn(&str, String) -> SurrogateError,
) -> std::result::Result<Option<crate::measure::Precision>, SurrogateError> {
    let cells = [&r.samples, &r.reps, &r.acc_1d_se, &r.avm_se];
    if cells.iter().all(|c| c.trim().is_empty()) {
        return Ok(None);
    }
    let count = |i: usize| {
        let (column, s) = (PRECISION_COLUMNS[i], cells[i].trim());
        match s.parse::<u64>() {
            Ok(v) if v >= 1 => Ok(v as usize),
            _ => Err(err(
                column,
                format!("expected an integer >= 1, got {}", quoted(s)),
            )),
        }
    };
    let se = |i: usize| {
        let (column, s) = (PRECISION_COLUMNS[i], cells[i].trim());
        match s.parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
            _ => Err(err(
                column,
                format!(
                    "expected a standard error in 0..=100 percent points, got {}",
                    quoted(s)
                ),
            )),
        }
    };
    Ok(Some(crate::measure::Precision {
        samples: count(0)?,
        reps: count(1)?,
        acc_1d_se: se(2)?,
        avm_se: se(3)?,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use crate::test_support::fake_rows;

    #[test]
    fn round_trip_is_exact() {
        let rows = fake_rows(12, 3);
        let text = to_csv(&rows);
        let back = parse("d.csv", &text).unwrap();
        assert_eq!(back.rows, rows);
        assert_eq!(back.lines, (2..14).collect::<Vec<_>>());
        assert_eq!(to_csv(&back.rows), text);
        // The budget holds a comma and quotes: it is quoted with doubled quotes.
        assert!(text.contains(r#""epochs=2, reps=3 ""fast""""#));
        // Inactive genes are empty.
        let one_block = rows.iter().find(|r| r.measurement.genome.m() == 1).unwrap();
        assert!(row_line(one_block).contains(",,,,"));
    }

    #[test]
    fn files_without_precision_columns_read_and_append_in_the_current_format() {
        let mut rows = fake_rows(3, 6);
        for r in &mut rows {
            r.measurement.precision = None;
        }
        // The format before the precision columns: the same columns up to `version`.
        let n = columns().len() - PRECISION_COLUMNS.len();
        let old: String = to_csv(&rows)
            .lines()
            .map(|l| {
                let mut fields: Vec<&str> = l.rsplitn(PRECISION_COLUMNS.len() + 1, ',').collect();
                fields.reverse();
                fields[0].to_string() + "\n"
            })
            .collect();
        assert_eq!(old.lines().next().unwrap().split(',').count(), n);
        let d = parse("old.csv", &old).unwrap();
        assert!(d.legacy);
        assert_eq!(d.rows, rows);
        // Appending rewrites the file whole in the current format.
        let path = crate::test_support::temp_dir("legacy-dataset").join("old.csv");
        std::fs::write(&path, &old).unwrap();
        let new = fake_rows(5, 6).split_off(3);
        append(&path, &new).unwrap();
        let back = Dataset::read(&path).unwrap();
        assert!(!back.legacy);
        assert_eq!(back.rows.len(), 5);
        assert_eq!(back.rows[..3], rows[..]);
        assert!(back.rows[3].measurement.precision.is_some());
        // Half-filled precision cells are an error naming the column.
        let text = to_csv(&fake_rows(1, 6));
        let cut = text.trim_end().rfind(',').unwrap();
        let e = parse("p.csv", &format!("{},\n", &text[..cut])).unwrap_err();
        assert!(
            e.to_string()
                .contains("column avm_se: expected a standard error"),
            "{e}"
        );
    }

    #[test]
    fn crlf_and_missing_final_newline_read() {
        let rows = fake_rows(3, 4);
        let text = to_csv(&rows).replace('\n', "\r\n");
        let d = parse("d.csv", &text).unwrap();
        assert_eq!(d.rows, rows);
        assert_eq!(d.lines, vec![2, 3, 4]);
        let text = to_csv(&rows);
        assert_eq!(parse("d.csv", text.trim_end()).unwrap().rows, rows);
    }

    #[test]
    fn truncated_row_names_line_and_column() {
        let rows = fake_rows(3, 5);
        let text = to_csv(&rows);
        let cut = text.trim_end().rfind(",0.").unwrap();
        let e = parse("d.csv", &text[..cut]).unwrap_err().to_string();
        assert!(e.starts_with("d.csv:4: column "), "{e}");
        assert!(
            e.contains("expected a value, got the end of the row"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        // Cut in the middle of the quoted genome.
        let line4 = text.lines().nth(3).unwrap();
        let cut = text.len() - line4.len() - 1 + line4.find("blocks").unwrap();
        let e = parse("d.csv", &text[..cut]).unwrap_err().to_string();
        assert_eq!(
            e,
            "d.csv:4: column params: expected a value, got the end of the row (25 of 53 fields; \
             truncated row?)"
        );
    }

    #[test]
    fn byte_order_mark_and_blank_lines_are_accepted() {
        let rows = fake_rows(3, 8);
        let text = to_csv(&rows);
        let d = parse("d.csv", &format!("\u{feff}{text}")).unwrap();
        assert_eq!(d.rows, rows);
        let d = parse("d.csv", &text.replacen('\n', "\n\n", 2)).unwrap();
        assert_eq!(d.rows, rows);
        assert_eq!(d.lines, vec![3, 5, 6]);
        let e = parse("d.csv", "").unwrap_err().to_string();
        assert_eq!(
            e,
            "d.csv: expected a header line (id,oc0,ks0,m...), got an empty file"
        );
    }

    #[test]
    fn shipped_data_set_reads_and_writes_back_byte_for_byte() {
        let path = format!(
            "{}/surrogates/digits_pcm_aihwkit.csv",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let d = parse("digits_pcm_aihwkit.csv", &text).unwrap();
        assert!(d.rows.len() > 100, "{}", d.rows.len());
        assert_eq!(to_csv(&d.rows), text);
    }

    #[test]
    fn hand_edits_name_line_and_column() {
        let rows = fake_rows(3, 6);
        let text = to_csv(&rows);
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let acc_fp = rows[1].measurement.acc_fp.to_string();
        lines[2] = lines[2].replace(&acc_fp, "9x.1");
        let e = parse("d.csv", &lines.join("\n")).unwrap_err().to_string();
        assert_eq!(
            e,
            "d.csv:3: column acc_fp: expected a finite number, got \"9x.1\""
        );

        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let oc0 = rows[0].measurement.genome.oc0;
        lines[1] = lines[1].replacen(&format!(",{oc0},"), ",999,", 1);
        let e = parse("d.csv", &lines.join("\n")).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("d.csv:2: column oc0: expected {oc0} (as in the genome column), got \"999\"")
        );

        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[3].push_str(",extra");
        let e = parse("d.csv", &lines.join("\n")).unwrap_err().to_string();
        assert!(e.starts_with("d.csv:4: column avm_se: expected the end of the row, got 1 extra"));

        let e = parse("d.csv", &text.replacen("acc_fp", "accfp", 1))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d.csv:1: header column "), "{e}");
        assert!(e.ends_with("expected acc_fp, got accfp"), "{e}");

        let e = parse("d.csv", &text.replace(",digits,", ",cifar,"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("d.csv:2: column task: expected digits"),
            "{e}"
        );
    }

    /// `text` with cell `column` of data line `row` (0-based, after the header) set to `value`.
    fn with_cell(text: &str, row: usize, column: &str, value: &str) -> String {
        let i = columns().iter().position(|c| c == column).unwrap();
        let d = parse("d.csv", text).unwrap();
        let mut cells: Vec<String> = {
            let line = row_line(&d.rows[row]);
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            r.records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(String::from)
                .collect()
        };
        cells[i] = value.into();
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(&cells).unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[row + 1] = line.trim_end().to_string();
        lines.join("\n") + "\n"
    }

    #[test]
    fn out_of_range_values_name_line_and_column() {
        let text = to_csv(&fake_rows(3, 9));
        for (column, value, expected) in [
            (
                "acc_fp",
                "150",
                "expected a percentage in 0..=100, got \"150\"",
            ),
            (
                "acc_1d_mean",
                "-20",
                "expected a percentage in 0..=100, got \"-20\"",
            ),
            (
                "acc_30d_std",
                "-0.5",
                "expected a spread in 0..=100 percent points",
            ),
            ("avm", "250", "expected a number in -100..=100, got \"250\""),
            ("utilisation", "1.5", "expected a number in 0..=1"),
            ("train_seconds", "-1", "expected a number >= 0"),
            ("tiles", "-3", "expected an integer >= 0, got \"-3\""),
            ("acc_fp", "inf", "expected a finite number, got \"inf\""),
        ] {
            let e = parse("d.csv", &with_cell(&text, 1, column, value))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(&format!("d.csv:3: column {column}: ")), "{e}");
            assert!(e.contains(expected), "{e}");
        }
        // A genome beyond the absolute gene limits is refused before its features are built.
        let rows = fake_rows(1, 9);
        let mut g = rows[0].measurement.genome.clone();
        g.blocks[0].r = u32::MAX;
        let json = g.canonical_json();
        let t = with_cell(&text, 0, "genome", &json);
        let e = parse("d.csv", &t).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "d.csv:2: column genome: field blocks[0].r: expected an integer in 1..=64"
            ),
            "{e}"
        );
    }

    #[test]
    fn duplicate_ids_conflict_or_collapse() {
        let rows = fake_rows(3, 10);
        let text = to_csv(&rows);
        let first = text.lines().nth(1).unwrap();
        // An identical repeat counts once.
        let d = parse("d.csv", &format!("{text}{first}\n")).unwrap();
        assert_eq!(d.rows, rows);
        assert_eq!(d.lines, vec![2, 3, 4]);
        // The same id with another value is an error naming both lines and the column.
        let edited = with_cell(&text, 0, "acc_fp", "12.5");
        let changed = edited.lines().nth(1).unwrap();
        let e = parse("d.csv", &format!("{text}{changed}\n"))
            .unwrap_err()
            .to_string();
        let id = &rows[0].measurement.id;
        assert_eq!(
            e,
            format!(
                "d.csv:5: column acc_fp: expected {:?} as on line 2 (the same id {id}; one \
                 measurement per genome), got \"12.5\"",
                rows[0].measurement.acc_fp.to_string()
            )
        );
    }

    #[test]
    fn append_is_whole_file_and_checks_the_old_one() {
        let dir = std::env::temp_dir().join(format!("analognas-ds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("d.csv");
        let rows = fake_rows(4, 7);
        append(&p, &rows[..1]).unwrap();
        append(&p, &rows[1..]).unwrap();
        assert_eq!(Dataset::read(&p).unwrap().rows, rows);
        std::fs::write(&p, "id,oc0\n").unwrap();
        let e = append(&p, &rows).unwrap_err().to_string();
        assert!(e.contains("d.csv:1: header column 3: expected ks0"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
