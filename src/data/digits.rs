//! The `digits` task: the 1,797 8x8 handwritten digits (UCI Optical Recognition of Handwritten
//! Digits) that smartcore ships, split once and for all.

use super::{Augment, Dataset, TaskData, stratified_split};
use crate::rng::seeded;
use crate::task::Task;

/// The seed of the digits split. Fixed, so that the test set is the same for every run.
pub const SPLIT_SEED: u64 = 0x0d16_1750;

/// Fractions of each class that go to training and validation; the test split takes the rest.
pub const SPLIT: [f64; 2] = [0.6, 0.2];

/// Loads the digits: a stratified 60/20/20 split by [`SPLIT_SEED`]; pixels (0-16) scaled to
/// [0, 1] and then standardised with the training split's mean and standard deviation.
pub fn load() -> TaskData {
    let ds = smartcore::dataset::digits::load_dataset();
    let labels: Vec<u32> = ds.target.iter().map(|&t| t as u32).collect();
    let shape = Task::Digits.input_shape();
    let all = Dataset {
        x: ds.data.iter().map(|&v| v / 16.0).collect(),
        y: labels,
        shape,
        classes: Task::Digits.classes(),
    };
    let parts = stratified_split(&all.y, all.classes, &SPLIT, &mut seeded(SPLIT_SEED));
    let mut train = all.subset(&parts[0]);
    let mut val = all.subset(&parts[1]);
    let mut test = all.subset(&parts[2]);
    let n = train.x.len() as f64;
    let mean = train.x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = train
        .x
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let (m, s) = (mean as f32, var.sqrt() as f32);
    for d in [&mut train, &mut val, &mut test] {
        for v in &mut d.x {
            *v = (*v - m) / s;
        }
    }
    TaskData {
        task: Task::Digits,
        train,
        val,
        test,
        augment: Augment::None,
        source: "smartcore built-in digits (1,797 8x8 images)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_split_is_fixed_stratified_and_standardised() {
        let a = load();
        let b = load();
        assert_eq!(a.train, b.train);
        assert_eq!(a.test, b.test);
        assert_eq!(a.train.len() + a.val.len() + a.test.len(), 1797);
        assert_eq!(a.train.shape, [1, 8, 8]);
        assert_eq!(a.train.x.len(), a.train.len() * 64);
        // Each class is split 60/20/20 (within rounding).
        let (tr, va, te) = (
            a.train.class_counts(),
            a.val.class_counts(),
            a.test.class_counts(),
        );
        for c in 0..10 {
            let n = (tr[c] + va[c] + te[c]) as f64;
            assert!((tr[c] as f64 - 0.6 * n).abs() <= 1.0, "class {c}: {tr:?}");
            assert!((va[c] as f64 - 0.2 * n).abs() <= 1.0, "class {c}: {va:?}");
        }
        let n = a.train.x.len() as f32;
        let mean = a.train.x.iter().sum::<f32>() / n;
        let var = a.train.x.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
        assert!(
            mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
            "{mean} {var}"
        );
        assert!(a.test.x.iter().all(|v| v.is_finite()));
        // The same load through the public entry point, seed-independent.
        let c = super::super::load(Task::Digits, None, 99).unwrap();
        assert_eq!(c.test, a.test);
        assert_eq!(c.val, a.val);
    }
}
