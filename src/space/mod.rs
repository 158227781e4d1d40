//! Search spaces: which genomes exist (DESIGN.md 2), how to sample, mutate, cross and repair them.
//!
//! A space is read from a TOML file (`search_spaces/*.toml`):
//!
//! ```toml
//! name = "tiny"
//! downsample = "last_two"        # or "all_but_first"
//! [genes]
//! oc0 = [8, 16]                  # a list of values ...
//! ks0 = [3]
//! m = { min = 1, max = 2 }       # ... or min/max with an optional step
//! r = { min = 1, max = 2 }
//! b = [1, 2]
//! ct = ["A", "C"]
//! wf = [1, 2]
//! ```

mod genome;
mod ops;

pub use genome::*;
pub use ops::*;

use crate::error::{Error, Result, toml_error};
use serde::Deserialize;
use std::path::Path;

/// A gene range in a space file: a list of values or `{ min, max, step }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RangeSpec {
    /// Explicit values.
    List(Vec<i64>),
    /// `min..=max` by `step` (default 1).
    Span {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Step between values; must be >= 1. Default: 1.
        #[serde(default = "one")]
        step: i64,
    },
}

fn one() -> i64 {
    1
}

/// The `[genes]` table of a space file, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesFile {
    /// Stem output channels.
    pub oc0: RangeSpec,
    /// Stem kernel size (odd).
    pub ks0: RangeSpec,
    /// Number of main blocks, within 1..=5.
    pub m: RangeSpec,
    /// Residual blocks per main block.
    pub r: RangeSpec,
    /// Parallel branches per residual block.
    pub b: RangeSpec,
    /// Convolution types, a list of "A".."D".
    pub ct: Vec<String>,
    /// Widening factors.
    pub wf: RangeSpec,
}

/// A search-space file, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceFile {
    /// Name of the space (default: the file stem).
    #[serde(default)]
    pub name: Option<String>,
    /// One line on what the space is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Downsampling rule. Default: "last_two".
    #[serde(default)]
    pub downsample: Downsample,
    /// Gene ranges.
    pub genes: GenesFile,
}

/// A validated search space: every list is non-empty and sorted, every value legal.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchSpace {
    /// Name of the space.
    pub name: String,
    /// One line on what the space is for.
    pub description: String,
    /// Downsampling rule of every genome of the space.
    pub downsample: Downsample,
    /// Allowed stem widths.
    pub oc0: Vec<u32>,
    /// Allowed stem kernel sizes.
    pub ks0: Vec<u32>,
    /// Allowed numbers of main blocks.
    pub m: Vec<u32>,
    /// Allowed residual-block counts.
    pub r: Vec<u32>,
    /// Allowed branch counts.
    pub b: Vec<u32>,
    /// Allowed convolution types.
    pub ct: Vec<ConvType>,
    /// Allowed widening factors.
    pub wf: Vec<u32>,
}

impl SearchSpace {
    /// Reads and validates a space file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::error::read_to_string(path)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::parse(&path.display().to_string(), &stem, &text)
    }

    /// Parses and validates a space from TOML text; `file` names it in errors.
    pub fn parse(file: &str, default_name: &str, text: &str) -> Result<Self> {
        let raw: SpaceFile = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        let g = &raw.genes;
        let list = |key: &str, spec: &RangeSpec, lo: i64, hi: i64| -> Result<Vec<u32>> {
            let bad = |what: String| Error::input(format!("{file}: field genes.{key}: {what}"));
            let mut v: Vec<i64> = match spec {
                RangeSpec::List(v) => v.clone(),
                RangeSpec::Span { min, max, step } => {
                    if *step < 1 {
                        return Err(bad(format!("expected step >= 1, got {step}")));
                    }
                    if min > max {
                        return Err(bad(format!(
                            "expected min <= max, got min {min} > max {max}"
                        )));
                    }
                    (*min..=*max).step_by(*step as usize).collect()
                }
            };
            if v.is_empty() {
                return Err(bad("expected a non-empty range".into()));
            }
            if let Some(x) = v.iter().find(|&&x| x < lo || x > hi) {
                return Err(bad(format!("expected values in {lo}..={hi}, got {x}")));
            }
            v.sort_unstable();
            v.dedup();
            Ok(v.into_iter().map(|x| x as u32).collect())
        };
        let ks0 = list("ks0", &g.ks0, 1, 15)?;
        if let Some(k) = ks0.iter().find(|k| *k % 2 == 0) {
            return Err(Error::input(format!(
                "{file}: field genes.ks0: expected odd kernel sizes, got {k}"
            )));
        }
        if g.ct.is_empty() {
            return Err(Error::input(format!(
                "{file}: field genes.ct: expected a non-empty list of \"A\"..\"D\""
            )));
        }
        let mut ct = Vec::new();
        for s in &g.ct {
            let t = ConvType::parse(s).ok_or_else(|| {
                Error::input(format!(
                    "{file}: field genes.ct: expected \"A\", \"B\", \"C\" or \"D\", got \"{s}\""
                ))
            })?;
            if !ct.contains(&t) {
                ct.push(t);
            }
        }
        ct.sort();
        Ok(SearchSpace {
            name: raw.name.unwrap_or_else(|| default_name.to_string()),
            description: raw.description.unwrap_or_default(),
            downsample: raw.downsample,
            oc0: list("oc0", &g.oc0, 1, 4096)?,
            ks0,
            m: list("m", &g.m, 1, MAX_BLOCKS as i64)?,
            r: list("r", &g.r, 1, 64)?,
            b: list("b", &g.b, 1, 64)?,
            ct,
            wf: list("wf", &g.wf, 1, 64)?,
        })
    }

    /// Number of distinct architectures in the space.
    pub fn size(&self) -> f64 {
        let per_block = (self.r.len() * self.b.len() * self.ct.len() * self.wf.len()) as f64;
        let stem = (self.oc0.len() * self.ks0.len()) as f64;
        self.m
            .iter()
            .map(|&m| stem * per_block.powi(m as i32))
            .sum()
    }

    /// Largest number of main blocks.
    pub fn max_m(&self) -> usize {
        *self.m.last().expect("validated space") as usize
    }

    /// Whether `g` lies in this space.
    pub fn contains(&self, g: &Genome) -> bool {
        self.violation(g).is_none()
    }

    /// The first gene of `g` outside this space, as `gene = value`, or `None` when valid.
    pub fn violation(&self, g: &Genome) -> Option<String> {
        if !self.oc0.contains(&g.oc0) {
            return Some(format!("oc0 = {}", g.oc0));
        }
        if !self.ks0.contains(&g.ks0) {
            return Some(format!("ks0 = {}", g.ks0));
        }
        if !self.m.contains(&(g.m() as u32)) {
            return Some(format!("m = {}", g.m()));
        }
        if g.downsample != self.downsample {
            return Some(format!("downsample = {:?}", g.downsample));
        }
        for (i, b) in g.blocks.iter().enumerate() {
            let n = i + 1;
            if !self.r.contains(&b.r) {
                return Some(format!("r{n} = {}", b.r));
            }
            if !self.b.contains(&b.b) {
                return Some(format!("b{n} = {}", b.b));
            }
            if !self.ct.contains(&b.ct) {
                return Some(format!("ct{n} = {}", b.ct));
            }
            if !self.wf.contains(&b.wf) {
                return Some(format!("wf{n} = {}", b.wf));
            }
        }
        None
    }

    /// One line per gene: its name and allowed values.
    pub fn describe(&self) -> Vec<(String, String)> {
        let fmt = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        vec![
            ("oc0".into(), fmt(&self.oc0)),
            ("ks0".into(), fmt(&self.ks0)),
            ("m".into(), fmt(&self.m)),
            ("r (per main block)".into(), fmt(&self.r)),
            ("b (per main block)".into(), fmt(&self.b)),
            (
                "ct (per main block)".into(),
                self.ct
                    .iter()
                    .map(ConvType::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("wf (per main block)".into(), fmt(&self.wf)),
            ("downsample".into(), format!("{:?}", self.downsample)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const TINY: &str = r#"
name = "tiny"
downsample = "last_two"
[genes]
oc0 = [8, 16]
ks0 = [3]
m = { min = 1, max = 2 }
r = { min = 1, max = 2 }
b = [1, 2]
ct = ["A", "B", "C", "D"]
wf = [1, 2]
"#;

    fn err(text: &str) -> String {
        SearchSpace::parse("s.toml", "s", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_and_counts() {
        let s = SearchSpace::parse("t.toml", "t", TINY).unwrap();
        assert_eq!(s.m, vec![1, 2]);
        let per = (2 * 2 * 4 * 2) as f64;
        assert_eq!(s.size(), 2.0 * (per + per * per));
    }

    #[test]
    fn errors_name_file_and_key() {
        let unknown = TINY.replace("wf = [1, 2]", "wf = [1, 2]\nfoo = 3");
        let e = err(&unknown);
        assert!(e.starts_with("s.toml:") && e.contains("foo"), "{e}");
        let empty = TINY.replace("b = [1, 2]", "b = []");
        assert_eq!(
            err(&empty),
            "s.toml: field genes.b: expected a non-empty range"
        );
        let minmax = TINY.replace("r = { min = 1, max = 2 }", "r = { min = 3, max = 2 }");
        assert_eq!(
            err(&minmax),
            "s.toml: field genes.r: expected min <= max, got min 3 > max 2"
        );
        let ty = TINY.replace("ks0 = [3]", "ks0 = \"three\"");
        let e = err(&ty);
        assert!(e.starts_with("s.toml:6:7: field genes.ks0:"), "{e}");
        let m = TINY.replace("m = { min = 1, max = 2 }", "m = [1, 9]");
        assert_eq!(
            err(&m),
            "s.toml: field genes.m: expected values in 1..=5, got 9"
        );
        let ct = TINY.replace("\"D\"]", "\"E\"]");
        assert!(err(&ct).contains("field genes.ct"));
        let missing = SearchSpace::load("/nonexistent/space.toml")
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("/nonexistent/space.toml: "),
            "{missing}"
        );
    }
}
