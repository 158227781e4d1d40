//! The files of a run directory (DESIGN.md 7) and their formats: `run.json`, `history.csv`,
//! `pareto.json`, `pareto.csv` and `validation.json`. The report reads only these.

use super::{
    Budgets, GenerationStats, Objectives, Outcome, ReferencePoint, Scores, SearchSettings,
};
use super::{Trial, ValidationFile};
use crate::error::{Error, Result};
use crate::space::Genome;
use crate::task::Task;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `run.json`.
pub const RUN_JSON: &str = "run.json";
/// `history.csv`.
pub const HISTORY_CSV: &str = "history.csv";
/// `pareto.json`.
pub const PARETO_JSON: &str = "pareto.json";
/// `pareto.csv`.
pub const PARETO_CSV: &str = "pareto.csv";
/// `checkpoint.json`.
pub const CHECKPOINT_JSON: &str = "checkpoint.json";
/// `validation.json`.
pub const VALIDATION_JSON: &str = "validation.json";

/// The header of `history.csv`.
pub const HISTORY_HEADER: &str =
    "generation,id,genes,genome,acc_1d,avm,acc_1d_std,tiles,params,feasible,error";

/// `run.json`: the inputs of a run and when it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Version of analognas that made the run.
    pub analognas_version: String,
    /// The task.
    pub task: Task,
    /// Data folder of the task, when one was given.
    pub data: Option<String>,
    /// Search-space file.
    pub space: String,
    /// Name of the search space.
    pub space_name: String,
    /// Hardware-profile file.
    pub profile: String,
    /// Name of the hardware profile.
    pub profile_name: String,
    /// The surrogate as given (`--surrogate`): a model file or `synthetic`.
    pub surrogate: String,
    /// The scorer's own name.
    pub scorer: String,
    /// Algorithm, objectives, budgets, sizes, seed, hypervolume reference point.
    #[serde(flatten)]
    pub settings: SearchSettings,
    /// Front members validated by measurement (plus the reference networks); 0 skips validation.
    pub validate_top: usize,
    /// Start time, UTC, RFC 3339.
    pub started: String,
    /// End time, UTC, RFC 3339; `null` while running.
    pub finished: Option<String>,
}

impl RunInfo {
    /// Reads `run.json` of `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(RUN_JSON);
        let text = crate::error::read_to_string(&path)?;
        serde_json::from_str(&text).map_err(|e| Error::input(format!("{}: {e}", path.display())))
    }

    /// Writes `run.json` of `dir` atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        write_json(&dir.join(RUN_JSON), self)
    }
}

/// A front member as written to `pareto.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontMember {
    /// Genome id.
    pub id: String,
    /// Short form of the genes.
    pub genes: String,
    /// The genome.
    pub genome: Genome,
    /// Generation that first evaluated it.
    pub generation: usize,
    /// Its predicted scores.
    #[serde(flatten)]
    pub scores: Scores,
}

/// A reference network scored by the run's scorer, for comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceScore {
    /// `resnet8`, `resnet20`, ...
    pub name: String,
    /// Genome id.
    pub id: String,
    /// The genome.
    pub genome: Genome,
    /// Predicted scores, when the scorer could score it.
    pub predicted: Option<Scores>,
    /// Why scoring failed.
    pub error: Option<String>,
}

/// `pareto.json`: the final front and the hypervolume of every generation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParetoFile {
    /// The objectives.
    pub objectives: Objectives,
    /// The budgets.
    pub budgets: Budgets,
    /// The hypervolume reference point.
    pub reference_point: ReferencePoint,
    /// Generations run.
    pub generations: usize,
    /// Distinct genomes evaluated.
    pub evaluations: usize,
    /// Per generation: evaluations, front size, hypervolume.
    pub hypervolume: Vec<GenerationStats>,
    /// The front: feasible evaluations no other dominates, by tiles then accuracy.
    pub front: Vec<FrontMember>,
    /// The reference networks as the scorer predicts them.
    pub references: Vec<ReferenceScore>,
}

impl ParetoFile {
    /// Reads `pareto.json` of `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        read_json(&dir.join(PARETO_JSON))
    }
}

impl ValidationFile {
    /// Reads `validation.json` of `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        read_json(&dir.join(VALIDATION_JSON))
    }
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("run files serialize");
    text.push('\n');
    crate::error::write_atomic(path, text.as_bytes())
}

/// Reads a JSON file, naming it in errors.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = crate::error::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| Error::input(format!("{}: {e}", path.display())))
}

/// A CSV field: quoted when it holds a comma, quote or line break (line breaks become spaces).
pub fn csv_field(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Splits one CSV line into fields (RFC 4180 quoting, no line breaks inside fields).
pub fn csv_split(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => quoted = true,
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            _ => cur.push(c),
        }
        at_start = false;
    }
    if quoted {
        return None;
    }
    fields.push(cur);
    Some(fields)
}

/// One `history.csv` row (with its line break) for `t` under `budgets`.
pub fn history_row(t: &Trial, budgets: &Budgets) -> String {
    let (scores, feasible, error) = match &t.outcome {
        Outcome::Scored(s) => (
            format!(
                "{},{},{},{},{}",
                s.acc_1d, s.avm, s.acc_1d_std, s.tiles, s.params
            ),
            budgets.violation(s) == 0.0,
            String::new(),
        ),
        Outcome::Failed(e) => (",,,,".to_string(), false, csv_field(e)),
    };
    format!(
        "{},{},{},{},{},{},{}\n",
        t.generation,
        t.id,
        csv_field(&t.genome.summary()),
        csv_field(&t.genome.canonical_json()),
        scores,
        feasible,
        error
    )
}

/// Parses `history.csv` text back into trials (exactly: floats are written round-trip).
pub fn parse_history(file: &str, text: &str) -> Result<Vec<Trial>> {
    let mut lines = text.lines();
    if lines.next() != Some(HISTORY_HEADER) {
        return Err(Error::input(format!(
            "{file}:1: expected the header \"{HISTORY_HEADER}\""
        )));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let at = |what: &str| Error::input(format!("{file}:{}: {what}", i + 2));
            let f = csv_split(line).ok_or_else(|| at("unclosed quote"))?;
            if f.len() != 11 {
                return Err(at(&format!("expected 11 fields, got {}", f.len())));
            }
            let num = |k: usize, name: &str| -> Result<f64> {
                f[k].parse::<f64>().map_err(|_| {
                    at(&format!(
                        "field {name}: expected a number, got \"{}\"",
                        f[k]
                    ))
                })
            };
            let int = |k: usize, name: &str| -> Result<usize> {
                f[k].parse::<usize>().map_err(|_| {
                    at(&format!(
                        "field {name}: expected an integer, got \"{}\"",
                        f[k]
                    ))
                })
            };
            let genome: Genome =
                serde_json::from_str(&f[3]).map_err(|e| at(&format!("field genome: {e}")))?;
            let outcome = if f[4].is_empty() {
                Outcome::Failed(f[10].clone())
            } else {
                Outcome::Scored(Scores {
                    acc_1d: num(4, "acc_1d")?,
                    avm: num(5, "avm")?,
                    acc_1d_std: num(6, "acc_1d_std")?,
                    tiles: int(7, "tiles")?,
                    params: int(8, "params")?,
                })
            };
            Ok(Trial {
                generation: int(0, "generation")?,
                id: f[1].clone(),
                genome,
                outcome,
            })
        })
        .collect()
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
        let mut buf = String::new();
        for t in trials {
            buf.push_str(&history_row(t, budgets));
        }
        let io = |e| Error::io(&self.path, e);
        self.file.write_all(buf.as_bytes()).map_err(io)?;
        if sync {
            self.file.sync_data().map_err(io)?;
        }
        self.rows += trials.len();
        self.bytes += buf.len() as u64;
        Ok(())
    }
}

/// Reads the first `bytes` bytes of `history.csv`, rewrites the file atomically when it holds
/// more (rows written after the checkpoint), and parses them.
pub fn history_at_checkpoint(path: &Path, bytes: u64, rows: usize) -> Result<Vec<Trial>> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    if (data.len() as u64) < bytes {
        return Err(Error::input(format!(
            "{name}: expected at least {bytes} bytes (checkpoint.json), got {}: the run directory was changed",
            data.len()
        )));
    }
    let kept = &data[..bytes as usize];
    if data.len() as u64 > bytes {
        crate::error::write_atomic(path, kept)?;
    }
    let text = std::str::from_utf8(kept)
        .map_err(|_| Error::input(format!("{name}: expected UTF-8 text")))?;
    let trials = parse_history(&name, text)?;
    if trials.len() != rows {
        return Err(Error::input(format!(
            "{name}: expected {rows} rows (checkpoint.json), got {}",
            trials.len()
        )));
    }
    Ok(trials)
}

/// `pareto.csv` text for `front`.
pub fn pareto_csv(front: &[FrontMember]) -> String {
    let mut s = String::from("id,genes,acc_1d,avm,acc_1d_std,tiles,params,generation,genome\n");
    for m in front {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            m.id,
            csv_field(&m.genes),
            m.scores.acc_1d,
            m.scores.avm,
            m.scores.acc_1d_std,
            m.scores.tiles,
            m.scores.params,
            m.generation,
            csv_field(&m.genome.canonical_json())
        ));
    }
    s
}

/// The current time, UTC, as RFC 3339 (`2025-01-31T12:00:00Z`).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_time(secs)
}

/// `secs` after the Unix epoch as RFC 3339, UTC.
pub fn utc_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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
        for t in &trials {
            text.push_str(&history_row(t, &b));
        }
        assert!(text.contains(",false,\n"), "{text}");
        let back = parse_history("h.csv", &text).unwrap();
        assert_eq!(back[0], trials[0]);
        assert_eq!(
            back[1].outcome,
            Outcome::Failed("diverged, \"loss\" nan at step 3".into())
        );
        let e = parse_history("h.csv", "x\n").unwrap_err().to_string();
        assert!(e.starts_with("h.csv:1: expected the header"), "{e}");
        let bad = format!("{HISTORY_HEADER}\n1,2\n");
        assert_eq!(
            parse_history("h.csv", &bad).unwrap_err().to_string(),
            "h.csv:2: expected 11 fields, got 2"
        );
    }

    #[test]
    fn csv_split_handles_quotes() {
        assert_eq!(
            csv_split(r#"a,"b,c","d""e",,"#).unwrap(),
            vec!["a", "b,c", "d\"e", "", ""]
        );
        assert!(csv_split("\"open").is_none());
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(utc_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_time(1_735_689_599), "2024-12-31T23:59:59Z");
    }
}
