//! The `table` scorer: answers from a measured data set (a pool of networks measured once, as
//! NAS-Bench tables are used), so that search strategies can be compared in seconds. A network
//! that is not in the table fails (the scorer never guesses).

use crate::error::Result;
use crate::nn::Arch;
use crate::search::{Outcome, Scorer, Scores};
use crate::surrogate::Dataset;
use crate::task::Task;
use std::collections::HashMap;
use std::path::Path;

/// A [`Scorer`] that looks each network up in a measured data set by genome id.
pub struct TableScorer {
    name: String,
    task: Task,
    rows: HashMap<String, Scores>,
    looked_up: usize,
}

impl TableScorer {
    /// The scorer of every row of `data` (one task).
    pub fn new(data: &Dataset) -> Result<Self> {
        let (task, _) = data.task_and_profile()?;
        let file = Path::new(&data.file)
            .file_name()
            .map_or(data.file.clone(), |f| f.to_string_lossy().into_owned());
        let rows = data
            .rows
            .iter()
            .map(|r| {
                let m = &r.measurement;
                let s = Scores {
                    acc_1d: m.acc_1d,
                    avm: m.avm,
                    acc_1d_std: m.acc_1d_std,
                    tiles: m.tiles,
                    params: m.params,
                    cost: None,
                };
                (m.id.clone(), s)
            })
            .collect();
        Ok(TableScorer {
            name: format!("table:{file}"),
            task,
            rows,
            looked_up: 0,
        })
    }

    /// Reads the data set at `path` and makes its scorer.
    pub fn load(path: &Path) -> Result<Self> {
        Self::new(&Dataset::read(path)?)
    }

    /// Rows in the table.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Networks found in the table so far (the "measurements" spent).
    pub fn looked_up(&self) -> usize {
        self.looked_up
    }
}

impl Scorer for TableScorer {
    fn name(&self) -> &str {
        &self.name
    }

    fn score(&mut self, batch: &[Arch]) -> Vec<Outcome> {
        batch
            .iter()
            .map(|a| {
                if a.input != self.task.input_shape() || a.classes != self.task.classes() {
                    return Outcome::Failed(format!(
                        "{}: the table holds task {}, not this input shape",
                        self.name, self.task
                    ));
                }
                match self.rows.get(&a.genome.id()) {
                    Some(s) => {
                        self.looked_up += 1;
                        Outcome::Scored(s.clone())
                    }
                    None => Outcome::Failed(format!(
                        "{}: genome {} is not in the table",
                        self.name,
                        a.genome.id()
                    )),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;

    #[test]
    fn answers_from_the_table_and_fails_elsewhere() {
        let data =
            Dataset::read(crate::test_support::repo().join("surrogates/digits_pcm_aihwkit.csv"))
                .unwrap();
        let mut t = TableScorer::new(&data).unwrap();
        assert_eq!(t.len(), data.rows.len());
        assert_eq!(t.name(), "table:digits_pcm_aihwkit.csv");
        let row = &data.rows[3];
        let out = t.score(&[row.arch()]);
        let s = out[0].scores().unwrap();
        assert_eq!(s.acc_1d, row.measurement.acc_1d);
        assert_eq!(s.tiles, row.measurement.tiles);
        let mut g = Reference::Resnet8.genome();
        g.oc0 = 13;
        let out = t.score(&[Arch::for_task(g, Task::Digits)]);
        assert!(matches!(&out[0], Outcome::Failed(e) if e.contains("not in the table")));
        let out = t.score(&[Arch::for_task(row.measurement.genome.clone(), Task::Mnist)]);
        assert!(matches!(&out[0], Outcome::Failed(_)));
        assert_eq!(t.looked_up(), 1);
    }
}
