//! `history.csv`: every evaluated genome of a run with its scores, one row each, in the order
//! evaluated; and `pareto.csv`, the front as a table. Read and written with the `csv` crate;
//! floats are written in Rust's shortest round-trip form, so a resume reads back exactly what
//! the search held.

use super::FrontMember;
use super::RunFileError;
use crate::error::{Error, Result};
use crate::search::{Budgets, Outcome, Scores, Trial};
use crate::space::Genome;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The header of `history.csv`.
pub const HISTORY_HEADER: &str =
    "generation,id,genes,genome,acc_1d,avm,acc_1d_std,tiles,params,feasible,error";

/// The header of `pareto.csv`.
pub const PARETO_HEADER: &str = "id,genes,acc_1d,avm,acc_1d_std,tiles,params,generation,genome";

/// Line breaks inside a field become spaces (a row is one line, so byte offsets count rows).
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn writer(buf: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(buf)
}

fn write_err(e: csv::Error) -> Error {
    Error::input(format!("cannot encode a CSV row: {e}"))
}

/// The `history.csv` rows (each with its line break) for `trials` under `budgets`.
pub fn history_rows(trials: &[Trial], budgets: &Budgets) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    {
        let mut w = writer(&mut buf);
        for t in trials {
            let (scores, feasible, error) = match &t.outcome {
                Outcome::Scored(s) => (
                    [
                        s.acc_1d.to_string(),
                        s.avm.to_string(),
                        s.acc_1d_std.to_string(),
                        s.tiles.to_string(),
                        s.params.to_string(),
                    ],
                    budgets.violation(s) == 0.0,
                    String::new(),
                ),
                Outcome::Failed(e) => (Default::default(), false, one_line(e)),
            };
            let mut rec = vec![
                t.generation.to_string(),
                t.id.clone(),
                t.genome.summary(),
                t.genome.canonical_json(),
            ];
            rec.extend(scores);
            rec.push(feasible.to_string());
            rec.push(error);
            w.write_record(&rec).map_err(write_err)?;
        }
        w.flush().map_err(|e| write_err(e.into()))?;
    }
    Ok(buf)
}

/// Parses `history.csv` text back into trials (exactly: floats are written round-trip).
/// `file` names the file in errors (`file:line: field NAME: expected ..., got ...`).
pub fn parse_history(file: &str, text: &str) -> Result<Vec<Trial>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.lines().next() != Some(HISTORY_HEADER) {
        return Err(RunFileError::Csv {
            path: file.to_string(),
            line: 1,
            message: format!("expected the header \"{HISTORY_HEADER}\""),
        }
        .into());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out: Vec<Trial> = Vec::new();
    let mut first_line = std::collections::HashMap::new();
    for rec in rdr.records() {
        let f = rec.map_err(|e| RunFileError::Csv {
            path: file.to_string(),
            line: e.position().map_or(0, |p| p.line()),
            message: csv_message(&e),
        })?;
        let line = f.position().map_or(0, |p| p.line());
        let at = |what: &str| {
            Error::from(RunFileError::Csv {
                path: file.to_string(),
                line,
                message: what.to_string(),
            })
        };
        if f.len() != 11 {
            return Err(at(&format!("expected 11 fields, got {}", f.len())));
        }
        let num = |k: usize, name: &str| -> Result<f64> {
            f[k].parse::<f64>().map_err(|_| {
                at(&format!(
                    "field {name}: expected a number, got \"{}\"",
                    &f[k]
                ))
            })
        };
        let int = |k: usize, name: &str| -> Result<usize> {
            f[k].parse::<usize>().map_err(|_| {
                at(&format!(
                    "field {name}: expected an integer, got \"{}\"",
                    &f[k]
                ))
            })
        };
        let genome: Genome =
            serde_json::from_str(&f[3]).map_err(|e| at(&format!("field genome: {e}")))?;
        let outcome = if f[4].is_empty() {
            Outcome::Failed(f[10].to_string())
        } else {
            Outcome::Scored(Scores {
                acc_1d: num(4, "acc_1d")?,
                avm: num(5, "avm")?,
                acc_1d_std: num(6, "acc_1d_std")?,
                tiles: int(7, "tiles")?,
                params: int(8, "params")?,
                cost: None,
            })
        };
        if let Some(first) = first_line.insert(f[1].to_string(), line) {
            return Err(at(&format!(
                "field id: expected each genome once, got {} again (first on line {first})",
                &f[1]
            )));
        }
        out.push(Trial {
            generation: int(0, "generation")?,
            id: f[1].to_string(),
            genome,
            outcome,
        });
    }
    Ok(out)
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "expected UTF-8 text".into(),
        _ => e.to_string(),
    }
}

/// Appends rows to `history.csv` and counts what belongs to the run.
pub struct HistoryWriter {
    path: PathBuf,
    file: std::fs::File,
    /// Data rows written.
    pub rows: usize,
    /// Bytes in the file, header included.
    pub bytes: u64,
}

impl HistoryWriter {
    /// Starts a fresh `history.csv` (header only).
    pub fn create(path: &Path) -> Result<Self> {
        crate::error::write_atomic(path, format!("{HISTORY_HEADER}\n").as_bytes())?;
        Self::open(path, 0)
    }

    /// Opens `path` for appending after `rows` rows.
    pub fn open(path: &Path, rows: usize) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let bytes = file.metadata().map_err(|e| Error::io(path, e))?.len();
        Ok(HistoryWriter {
            path: path.to_path_buf(),
            file,
            rows,
            bytes,
        })
    }

    /// Appends `trials`, flushes them to the operating system and, with `sync`, to the disk.
    pub fn append(&mut self, trials: &[Trial], budgets: &Budgets, sync: bool) -> Result<()> {
        let buf = history_rows(trials, budgets)?;
        let io = |e| Error::io(&self.path, e);
        self.file.write_all(&buf).map_err(io)?;
        if sync {
            self.file.sync_data().map_err(io)?;
        }
        self.rows += trials.len();
        self.bytes += buf.len() as u64;
        Ok(())
    }
}

/// Reads the first `bytes` bytes of `history.csv` and checks that they parse into `rows`
/// rows; returns the trials and whether the file holds more (rows written after the
/// checkpoint, which [`truncate_history`] cuts). Changes nothing.
pub fn read_history_at_checkpoint(
    path: &Path,
    bytes: u64,
    rows: usize,
) -> Result<(Vec<Trial>, bool)> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    if (data.len() as u64) < bytes {
        return Err(RunFileError::inconsistent(
            path,
            format!(
                "expected at least {bytes} bytes (checkpoint.json), got {}: the run directory was changed",
                data.len()
            ),
        )
        .into());
    }
    let kept = &data[..bytes as usize];
    let text = std::str::from_utf8(kept)
        .map_err(|_| RunFileError::inconsistent(path, "expected UTF-8 text"))?;
    let trials = parse_history(&name, text)?;
    if trials.len() != rows {
        return Err(RunFileError::inconsistent(
            path,
            format!(
                "expected {rows} rows (checkpoint.json), got {}",
                trials.len()
            ),
        )
        .into());
    }
    Ok((trials, data.len() as u64 > bytes))
}

/// Cuts `history.csv` to its first `bytes` bytes, atomically.
pub fn truncate_history(path: &Path, bytes: u64) -> Result<()> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let keep = (bytes as usize).min(data.len());
    crate::error::write_atomic(path, &data[..keep])
}

/// [`read_history_at_checkpoint`], then [`truncate_history`] when the file holds more.
pub fn history_at_checkpoint(path: &Path, bytes: u64, rows: usize) -> Result<Vec<Trial>> {
    let (trials, extra) = read_history_at_checkpoint(path, bytes, rows)?;
    if extra {
        truncate_history(path, bytes)?;
    }
    Ok(trials)
}

/// `pareto.csv` text for `front`.
pub fn pareto_csv(front: &[FrontMember]) -> Result<String> {
    let mut buf = format!("{PARETO_HEADER}\n").into_bytes();
    {
        let mut w = writer(&mut buf);
        for m in front {
            w.write_record([
                m.id.clone(),
                one_line(&m.genes),
                m.scores.acc_1d.to_string(),
                m.scores.avm.to_string(),
                m.scores.acc_1d_std.to_string(),
                m.scores.tiles.to_string(),
                m.scores.params.to_string(),
                m.generation.to_string(),
                m.genome.canonical_json(),
            ])
            .map_err(write_err)?;
        }
        w.flush().map_err(|e| write_err(e.into()))?;
    }
    Ok(String::from_utf8(buf).expect("CSV of UTF-8 fields is UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;

    #[test]
    fn history_round_trips_exactly() {
        let g = Reference::Resnet8.genome();
        let trials = vec![
            Trial {
                generation: 3,
                id: g.id(),
                genome: g.clone(),
                outcome: Outcome::Scored(Scores {
                    acc_1d: 0.1 + 0.2,
                    avm: 1.0 / 3.0,
                    acc_1d_std: 1e-17,
                    tiles: 12,
                    params: 78_000,
                    cost: None,
                }),
            },
            Trial {
                generation: 4,
                id: "x".into(),
                genome: g,
                outcome: Outcome::Failed("diverged, \"loss\" nan\nat step 3".into()),
            },
        ];
        let b = Budgets {
            max_tiles: Some(10),
            ..Budgets::default()
        };
        let mut text = format!("{HISTORY_HEADER}\n");
        text.push_str(&String::from_utf8(history_rows(&trials, &b).unwrap()).unwrap());
        assert!(text.contains(",false,\n"), "{text}");
        assert_eq!(text.lines().count(), 3, "one line per row");
        let back = parse_history("h.csv", &text).unwrap();
        assert_eq!(back[0], trials[0]);
        assert_eq!(
            back[1].outcome,
            Outcome::Failed("diverged, \"loss\" nan at step 3".into())
        );
        let with_bom = format!("\u{feff}{text}");
        assert_eq!(parse_history("h.csv", &with_bom).unwrap(), back);
        let e = parse_history("h.csv", "x\n").unwrap_err().to_string();
        assert!(e.starts_with("h.csv:1: expected the header"), "{e}");
        let bad = format!("{HISTORY_HEADER}\n1,2\n");
        assert_eq!(
            parse_history("h.csv", &bad).unwrap_err().to_string(),
            "h.csv:2: expected 11 fields, got 2"
        );
    }

    #[test]
    fn failed_resume_check_leaves_the_file() {
        let dir = std::env::temp_dir().join(format!("analognas-hist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("history.csv");
        let text = format!("{HISTORY_HEADER}\n1,2\n");
        std::fs::write(&p, &text).unwrap();
        assert!(history_at_checkpoint(&p, 10, 1).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
