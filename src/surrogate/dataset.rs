//! The measured data sets (`surrogates/*.csv`): one row per architecture with its genes, genome,
//! derived features, measured accuracies and provenance.
//!
//! Format: a header line with [`columns`], then one row per architecture. Fields holding a comma,
//! a quote or a line break are quoted (`"..."`, a quote doubled); the `genome` column always is.
//! Gene columns of main blocks beyond `m` are empty; `ct` is written `A`..`D`. The genome JSON is
//! the truth: on reading, the id and the gene columns must agree with it, so a hand edit of one
//! of them is caught. Drift columns of a time that was not measured are empty. Numbers are
//! written in Rust's shortest round-trip form, so writing and reading gives identical values.

use crate::error::{Error, Result};
use crate::measure::{DRIFT_TIMES, DriftPoint, Measurement};
use crate::nn::Arch;
use crate::space::{ConvType, Genome, MAX_BLOCKS};
use crate::task::Task;
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
        Error::input(format!(
            "{}:{}: column {column}: {msg}",
            self.file, self.lines[i]
        ))
    }

    /// Checks that every row has the same task and profile, and returns them.
    pub fn task_and_profile(&self) -> Result<(Task, String)> {
        let Some(first) = self.rows.first() else {
            return Err(Error::input(format!(
                "{}: expected at least one row, got none",
                self.file
            )));
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
    c
}

/// The header line (no line break).
pub fn header_line() -> String {
    columns().join(",")
}

/// Quotes a field when it holds a comma, a quote or a line break.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// One row as a CSV line (no line break).
pub fn row_line(row: &Row) -> String {
    let m = &row.measurement;
    let g = &m.genome;
    let mut f: Vec<String> = vec![
        m.id.clone(),
        g.oc0.to_string(),
        g.ks0.to_string(),
        g.m().to_string(),
    ];
    let block = |i: usize, get: &dyn Fn(&crate::space::MainBlock) -> String| {
        g.blocks.get(i).map(get).unwrap_or_default()
    };
    for i in 0..MAX_BLOCKS {
        f.push(block(i, &|b| b.r.to_string()));
    }
    for i in 0..MAX_BLOCKS {
        f.push(block(i, &|b| b.ct.to_string()));
    }
    for i in 0..MAX_BLOCKS {
        f.push(block(i, &|b| b.wf.to_string()));
    }
    for i in 0..MAX_BLOCKS {
        f.push(block(i, &|b| b.b.to_string()));
    }
    f.push(g.canonical_json());
    f.extend([
        m.params.to_string(),
        m.macs.to_string(),
        m.tiles.to_string(),
        m.utilisation.to_string(),
        m.depth.to_string(),
        m.acc_fp.to_string(),
    ]);
    for (_, t) in DRIFT_TIMES {
        match m.drift.iter().find(|p| (p.t_seconds - t).abs() < 1e-9) {
            Some(p) => f.extend([p.mean.to_string(), p.std.to_string()]),
            None => f.extend([String::new(), String::new()]),
        }
    }
    let p = &row.provenance;
    f.extend([
        m.avm.to_string(),
        m.train_seconds.to_string(),
        m.seed.to_string(),
        p.task.to_string(),
        p.space.clone(),
        p.profile.clone(),
        p.budget.clone(),
        p.version.clone(),
    ]);
    f.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",")
}

/// A whole file: the header and one line per row.
pub fn to_csv(rows: &[Row]) -> String {
    let mut s = header_line();
    s.push('\n');
    for r in rows {
        s.push_str(&row_line(r));
        s.push('\n');
    }
    s
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
    let mut text = existing_text(path)?;
    for r in rows {
        text.push_str(&row_line(r));
        text.push('\n');
    }
    crate::error::write_atomic(path, text.as_bytes())
}

/// The checked text of the data set at `path` ending in a line break, or a bare header when the
/// file does not exist.
pub(crate) fn existing_text(path: &Path) -> Result<String> {
    if !path.exists() {
        return Ok(header_line() + "\n");
    }
    let mut text = crate::error::read_to_string(path)?;
    parse(&path.display().to_string(), &text)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// A CSV record: the line it starts on and its fields.
type Record = (usize, Vec<String>);
/// A CSV syntax error: line, field index, message.
type SyntaxError = (usize, usize, String);

/// Splits CSV text into records of fields, each with the line it starts on.
fn records(text: &str) -> std::result::Result<Vec<Record>, SyntaxError> {
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut after_quote = false;
    let mut row_empty = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    after_quote = true;
                }
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                fields.push(std::mem::take(&mut field));
                after_quote = false;
                row_empty = false;
            }
            '\n' => {
                if field.ends_with('\r') {
                    field.pop();
                }
                if !(row_empty && field.is_empty() && fields.is_empty()) {
                    fields.push(std::mem::take(&mut field));
                    out.push((start_line, std::mem::take(&mut fields)));
                }
                line += 1;
                start_line = line;
                after_quote = false;
                row_empty = true;
            }
            '"' if field.is_empty() && !after_quote => {
                quoted = true;
                row_empty = false;
            }
            _ if after_quote && c != '\r' => {
                return Err((
                    line,
                    fields.len(),
                    format!("expected ',' after a closing quote, got {c:?}"),
                ));
            }
            _ => {
                field.push(c);
                row_empty = false;
            }
        }
    }
    if quoted {
        return Err((
            start_line,
            fields.len(),
            "expected a closing quote, got the end of the file".into(),
        ));
    }
    if !(row_empty && field.is_empty() && fields.is_empty()) {
        if field.ends_with('\r') {
            field.pop();
        }
        fields.push(field);
        out.push((start_line, fields));
    }
    Ok(out)
}

/// Parses a data set; `file` names it in errors (`FILE:LINE: column NAME: expected ..., got ...`).
pub fn parse(file: &str, text: &str) -> Result<Dataset> {
    let cols = columns();
    let col_name = |i: usize| cols.get(i).map_or("(extra)", |s| s.as_str()).to_string();
    let recs = records(text).map_err(|(line, i, msg)| {
        Error::input(format!("{file}:{line}: column {}: {msg}", col_name(i)))
    })?;
    let mut recs = recs.into_iter();
    let Some((hline, header)) = recs.next() else {
        return Err(Error::input(format!(
            "{file}: expected a header line ({}...), got an empty file",
            cols[..4].join(",")
        )));
    };
    for (i, want) in cols.iter().enumerate() {
        let got = header.get(i).map_or("the end of the line", |s| s.as_str());
        if got != want {
            return Err(Error::input(format!(
                "{file}:{hline}: header column {}: expected {want}, got {got}",
                i + 1
            )));
        }
    }
    if header.len() > cols.len() {
        return Err(Error::input(format!(
            "{file}:{hline}: header column {}: expected the end of the line, got {}",
            cols.len() + 1,
            header[cols.len()]
        )));
    }
    let mut data = Dataset {
        file: file.to_string(),
        rows: Vec::new(),
        lines: Vec::new(),
    };
    for (line, fields) in recs {
        let row = RowReader {
            file,
            line,
            cols: &cols,
            fields: &fields,
        }
        .read()?;
        data.rows.push(row);
        data.lines.push(line);
    }
    Ok(data)
}

struct RowReader<'a> {
    file: &'a str,
    line: usize,
    cols: &'a [String],
    fields: &'a [String],
}

impl RowReader<'_> {
    fn err(&self, col: &str, msg: String) -> Error {
        Error::input(format!("{}:{}: column {col}: {msg}", self.file, self.line))
    }

    fn get(&self, col: &str) -> Result<&str> {
        let i = self
            .cols
            .iter()
            .position(|c| c == col)
            .expect("known column");
        self.fields.get(i).map(|s| s.as_str()).ok_or_else(|| {
            self.err(
                col,
                format!(
                    "expected a value, got the end of the row ({} of {} fields; truncated row?)",
                    self.fields.len(),
                    self.cols.len()
                ),
            )
        })
    }

    fn float(&self, col: &str) -> Result<f64> {
        let s = self.get(col)?;
        match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.err(col, format!("expected a finite number, got {s:?}"))),
        }
    }

    fn opt_float(&self, col: &str) -> Result<Option<f64>> {
        if self.get(col)?.trim().is_empty() {
            Ok(None)
        } else {
            self.float(col).map(Some)
        }
    }

    fn uint(&self, col: &str) -> Result<u64> {
        let s = self.get(col)?;
        s.trim()
            .parse::<u64>()
            .map_err(|_| self.err(col, format!("expected an integer >= 0, got {s:?}")))
    }

    fn usize(&self, col: &str) -> Result<usize> {
        let v = self.uint(col)?;
        usize::try_from(v)
            .map_err(|_| self.err(col, format!("expected a smaller integer, got {v}")))
    }

    fn text(&self, col: &str) -> Result<String> {
        self.get(col).map(str::to_string)
    }

    /// Checks a gene column against the value the genome gives it.
    fn gene(&self, col: &str, want: String) -> Result<()> {
        let got = self.get(col)?.trim();
        if got != want {
            let want = if want.is_empty() {
                "empty (no such main block in the genome)".to_string()
            } else {
                format!("{want} (as in the genome column)")
            };
            return Err(self.err(col, format!("expected {want}, got {got:?}")));
        }
        Ok(())
    }

    fn read(&self) -> Result<Row> {
        let n = self.cols.len();
        if self.fields.len() > n {
            return Err(self.err(
                &self.cols[n - 1],
                format!(
                    "expected the end of the row, got {} extra field(s) (an unquoted comma?)",
                    self.fields.len() - n
                ),
            ));
        }
        // Touch the last column first so a truncated row names its first missing column.
        if self.fields.len() < n {
            self.get(&self.cols[self.fields.len()])?;
        }
        let genome_text = self.get("genome")?;
        let genome: Genome = serde_json::from_str(genome_text)
            .map_err(|e| self.err("genome", format!("expected a genome JSON, got {e}")))?;
        let id = self.text("id")?;
        if id != genome.id() {
            return Err(self.err(
                "id",
                format!("expected {} (the genome's id), got {id:?}", genome.id()),
            ));
        }
        self.gene("oc0", genome.oc0.to_string())?;
        self.gene("ks0", genome.ks0.to_string())?;
        self.gene("m", genome.m().to_string())?;
        for i in 0..MAX_BLOCKS {
            let b = genome.blocks.get(i);
            let s = |f: &dyn Fn(&crate::space::MainBlock) -> String| b.map(f).unwrap_or_default();
            self.gene(&format!("r{}", i + 1), s(&|b| b.r.to_string()))?;
            let ct_col = format!("ct{}", i + 1);
            let ct = self.get(&ct_col)?.trim();
            if !ct.is_empty() && ConvType::parse(ct).is_none() {
                return Err(self.err(&ct_col, format!("expected A, B, C or D, got {ct:?}")));
            }
            self.gene(&ct_col, s(&|b| b.ct.to_string()))?;
            self.gene(&format!("wf{}", i + 1), s(&|b| b.wf.to_string()))?;
            self.gene(&format!("b{}", i + 1), s(&|b| b.b.to_string()))?;
        }
        let mut drift = Vec::new();
        for (label, t) in DRIFT_TIMES {
            let mean = self.opt_float(&format!("acc_{label}_mean"))?;
            let std = self.opt_float(&format!("acc_{label}_std"))?;
            match (mean, std) {
                (Some(mean), Some(std)) => drift.push(DriftPoint {
                    t_seconds: t,
                    mean,
                    std,
                }),
                (None, None) => {}
                (Some(_), None) => {
                    return Err(self.err(
                        &format!("acc_{label}_std"),
                        format!("expected a number (acc_{label}_mean has one), got \"\""),
                    ));
                }
                (None, Some(_)) => {
                    return Err(self.err(
                        &format!("acc_{label}_mean"),
                        format!("expected a number (acc_{label}_std has one), got \"\""),
                    ));
                }
            }
        }
        let one_day = drift
            .iter()
            .find(|p| p.t_seconds == 86_400.0)
            .cloned()
            .ok_or_else(|| self.err("acc_1d_mean", "expected a number, got \"\"".into()))?;
        let task_text = self.get("task")?;
        let task = <Task as crate::choice::Choice>::parse(task_text.trim()).map_err(|_| {
            self.err(
                "task",
                format!("expected digits, mnist, cifar10, kws or vww, got {task_text:?}"),
            )
        })?;
        let measurement = Measurement {
            id,
            acc_fp: self.float("acc_fp")?,
            acc_1d: one_day.mean,
            acc_1d_std: one_day.std,
            drift,
            avm: self.float("avm")?,
            tiles: self.usize("tiles")?,
            utilisation: self.float("utilisation")?,
            params: self.usize("params")?,
            macs: self.usize("macs")?,
            depth: self.usize("depth")?,
            train_seconds: self.float("train_seconds")?,
            seed: self.uint("seed")?,
            genome,
        };
        let provenance = Provenance {
            task,
            space: self.text("space")?,
            profile: self.text("profile")?,
            budget: self.text("budget")?,
            version: self.text("version")?,
        };
        Ok(Row {
            measurement,
            provenance,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::hw::{HwProfile, footprint};
    use crate::space::SearchSpace;

    /// A plausible measurement of `g` on digits (a deterministic function of the genome).
    pub(crate) fn fake_row(g: Genome, seed: u64) -> Row {
        let arch = Arch::for_task(g, Task::Digits);
        let fp = footprint(&arch, &HwProfile::default());
        let acc = 80.0 + (fp.params as f64).ln() + 0.1 * arch.genome.oc0 as f64;
        let drift: Vec<DriftPoint> = DRIFT_TIMES
            .iter()
            .enumerate()
            .map(|(i, &(_, t))| DriftPoint {
                t_seconds: t,
                mean: acc - 0.5 * i as f64,
                std: 0.1 + 0.01 * i as f64,
            })
            .collect();
        let m = Measurement {
            id: arch.genome.id(),
            acc_fp: acc + 1.0 / 3.0,
            acc_1d: drift[2].mean,
            acc_1d_std: drift[2].std,
            avm: drift[0].mean - drift[3].mean,
            drift,
            tiles: fp.tiles,
            utilisation: fp.utilisation,
            params: fp.params,
            macs: fp.macs,
            depth: arch.depth(),
            train_seconds: 1.25,
            seed,
            genome: arch.genome,
        };
        Row {
            measurement: m,
            provenance: Provenance::new(
                Task::Digits,
                "resnet_tinyml",
                "pcm_aihwkit",
                "epochs=2, reps=3 \"fast\"",
            ),
        }
    }

    pub(crate) fn fake_rows(n: usize, seed: u64) -> Vec<Row> {
        let space = SearchSpace::load(format!(
            "{}/search_spaces/resnet_tinyml.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut rng = crate::rng::seeded(seed);
        space
            .sample_lhs(n, &mut rng)
            .into_iter()
            .enumerate()
            .map(|(i, g)| fake_row(g, i as u64))
            .collect()
    }

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
    fn crlf_and_missing_final_newline_read() {
        let rows = fake_rows(3, 4);
        let text = to_csv(&rows).replace('\n', "\r\n");
        assert_eq!(parse("d.csv", &text).unwrap().rows, rows);
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
            "d.csv:4: column genome: expected a closing quote, got the end of the file"
        );
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
        assert!(e.starts_with("d.csv:4: column version: expected the end of the row, got 1 extra"));

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
