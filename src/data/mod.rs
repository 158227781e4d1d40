//! Tasks and data sets (DESIGN.md 4b): loaders that turn files into normalised train,
//! validation and test splits.
//!
//! | task | source | loader |
//! |---|---|---|
//! | `digits` | smartcore's built-in 8x8 digits | [`digits`] |
//! | `mnist` | MNIST IDX files, gzipped or not | [`mnist`] |
//! | `cifar10` | CIFAR-10 binary batches | [`cifar`] |
//! | `kws` | a Google Speech Commands folder, as MFCC features | [`kws`] ([`wav`], [`mfcc`]) |
//! | `vww` | `person/` and `non_person/` image folders | [`vww`] |
//!
//! Every split is stored contiguously as `[n, c, h, w]` f32 in [`Dataset`]. The test split never
//! depends on the `seed` given to [`load`]; where a source does not fix the validation split, the
//! seed picks it. Parsers take bytes, and the functions that read files add the file's path to
//! every error.
//!
//! ```
//! use analognas::{data, task::Task};
//! let d = data::load(Task::Digits, None, 1)?;
//! let (x, y) = d.train.gather(&[0, 1, 2]);
//! assert_eq!(x.len(), 3 * d.train.sample_len());
//! # let _ = y;
//! # Ok::<(), analognas::Error>(())
//! ```

pub mod cifar;
pub mod digits;
mod error;
pub mod kws;
pub mod mfcc;
pub mod mnist;
pub mod vww;
pub mod wav;

pub use error::DataError;

use crate::error::{Error, Result};
use crate::rng::SeededRng;
use crate::task::Task;
use rand::RngExt;
use std::path::{Path, PathBuf};

/// A split of a data set: samples stored contiguously, row-major `[n, c, h, w]`, normalised f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The samples, `len() * sample_len()` values.
    pub x: Vec<f32>,
    /// One class index per sample, each `< classes`.
    pub y: Vec<u32>,
    /// The shape of one sample, `[channels, height, width]`.
    pub shape: [usize; 3],
    /// Number of classes of the task.
    pub classes: usize,
}

impl Dataset {
    /// An empty split with the given sample shape and number of classes.
    pub fn empty(shape: [usize; 3], classes: usize) -> Self {
        Dataset {
            x: Vec::new(),
            y: Vec::new(),
            shape,
            classes,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether the split has no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of values in one sample (`c * h * w`).
    pub fn sample_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Copies the given samples into `(x, y)`, in the order of `idx`.
    ///
    /// # Panics
    /// If an index is `>= len()`.
    pub fn gather(&self, idx: &[usize]) -> (Vec<f32>, Vec<u32>) {
        let s = self.sample_len();
        let mut x = Vec::with_capacity(idx.len() * s);
        let mut y = Vec::with_capacity(idx.len());
        for &i in idx {
            x.extend_from_slice(&self.x[i * s..(i + 1) * s]);
            y.push(self.y[i]);
        }
        (x, y)
    }

    /// The split restricted to the given samples, in the order of `idx`.
    ///
    /// # Panics
    /// If an index is `>= len()`.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let (x, y) = self.gather(idx);
        Dataset {
            x,
            y,
            shape: self.shape,
            classes: self.classes,
        }
    }

    /// Number of samples of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &c in &self.y {
            counts[c as usize] += 1;
        }
        counts
    }
}

/// Training-time augmentation of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Augment {
    /// Samples are used as stored.
    None,
    /// A random crop after `pad` pixels of zero padding on every side (zero in the
    /// normalised values, i.e. the channel mean), then a horizontal flip with probability 1/2.
    CropFlip {
        /// Padding in pixels on each side; the crop offset is uniform in `0..=2 * pad`.
        pad: usize,
    },
}

impl Augment {
    /// Applies the augmentation in place to the samples in `x` (each of `shape`).
    pub fn apply(&self, x: &mut [f32], shape: [usize; 3], rng: &mut SeededRng) {
        let Augment::CropFlip { pad } = *self else {
            return;
        };
        let [c, h, w] = shape;
        let s = c * h * w;
        if s == 0 {
            return;
        }
        let mut src = vec![0.0f32; s];
        for sample in x.chunks_exact_mut(s) {
            let dy = rng.random_range(0..=2 * pad) as isize - pad as isize;
            let dx = rng.random_range(0..=2 * pad) as isize - pad as isize;
            let flip = rng.random_bool(0.5);
            src.copy_from_slice(sample);
            for ch in 0..c {
                for i in 0..h {
                    let si = i as isize + dy;
                    for j in 0..w {
                        let jj = if flip { w - 1 - j } else { j };
                        let sj = jj as isize + dx;
                        let inside = si >= 0 && si < h as isize && sj >= 0 && sj < w as isize;
                        sample[(ch * h + i) * w + j] = if inside {
                            src[(ch * h + si as usize) * w + sj as usize]
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }
}

/// A task's data: its three splits, its training augmentation and where it came from.
#[derive(Clone, Debug)]
pub struct TaskData {
    /// The task.
    pub task: Task,
    /// Training split.
    pub train: Dataset,
    /// Validation split (may be empty for very small sources).
    pub val: Dataset,
    /// Test split; never depends on the seed given to [`load`].
    pub test: Dataset,
    /// Augmentation applied by [`TaskData::train_batch`].
    pub augment: Augment,
    /// Where the data came from (a path, or the built-in set), for reports.
    pub source: String,
}

impl TaskData {
    /// A training batch of the given training samples, with the task's augmentation applied
    /// using `rng`.
    ///
    /// # Panics
    /// If an index is `>= train.len()`.
    pub fn train_batch(&self, idx: &[usize], rng: &mut SeededRng) -> (Vec<f32>, Vec<u32>) {
        let (mut x, y) = self.train.gather(idx);
        self.augment.apply(&mut x, self.train.shape, rng);
        (x, y)
    }

    /// One line: task, source, split sizes, input shape and classes.
    pub fn describe(&self) -> String {
        let [c, h, w] = self.train.shape;
        format!(
            "{} ({}): train {}, val {}, test {}, input {c}x{h}x{w}, {} classes",
            self.task,
            self.source,
            self.train.len(),
            self.val.len(),
            self.test.len(),
            self.train.classes
        )
    }
}

/// Loads a task. `path` is the user's `--data`; `None` takes the task's default: `digits` needs
/// none, `mnist` reads `data/mnist-5k` and `kws` reads `data/kws-mini` (from the working
/// directory, else from the repository this binary was built in), `cifar10` and `vww` need a
/// path. `seed` picks the validation split where the source does not fix it (and the silence
/// and unknown samples of the training and validation splits of `kws`); the test split never
/// depends on it.
pub fn load(task: Task, path: Option<&Path>, seed: u64) -> Result<TaskData> {
    match task {
        Task::Digits => {
            if let Some(p) = path {
                return Err(DataError::Option {
                    option: "--data",
                    expected: "no data folder for task digits (its 1,797 images ship with \
                               smartcore)"
                        .into(),
                    got: p.display().to_string(),
                }
                .into());
            }
            Ok(digits::load())
        }
        Task::Mnist => {
            let dir = resolve(path, task, "data/mnist-5k")?;
            mnist::load(&dir, seed)
        }
        Task::Kws => {
            let dir = resolve(path, task, "data/kws-mini")?;
            kws::load(&dir, seed)
        }
        Task::Cifar10 => {
            let dir = resolve(path, task, "")?;
            cifar::load(&dir, seed)
        }
        Task::Vww => {
            let dir = resolve(path, task, "")?;
            vww::load(&dir, seed)
        }
    }
}

/// The data folder of `task`: the user's path, or `default` (relative to the working directory,
/// else to the repository the crate was built from).
fn resolve(path: Option<&Path>, task: Task, default: &str) -> Result<PathBuf> {
    if let Some(p) = path {
        return Ok(p.to_path_buf());
    }
    if default.is_empty() {
        return Err(DataError::Option {
            option: "--data",
            expected: format!("a data folder for task {task}: {}", expected_layout(task)),
            got: "none".into(),
        }
        .into());
    }
    let local = PathBuf::from(default);
    if local.is_dir() {
        return Ok(local);
    }
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join(default);
    if shipped.is_dir() {
        return Ok(shipped);
    }
    Err(DataError::no_folder(
        &local,
        format!(
            "the default data folder of task {task} when --data is not given: {}",
            expected_layout(task)
        ),
    )
    .into())
}

/// What a task's data folder must hold, for error messages.
pub fn expected_layout(task: Task) -> &'static str {
    match task {
        Task::Digits => "nothing: the digits ship with smartcore",
        Task::Mnist => {
            "a folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally .gz"
        }
        Task::Cifar10 => {
            "cifar-10-batches-bin/ (or that folder itself) with data_batch_1.bin .. data_batch_5.bin and test_batch.bin"
        }
        Task::Kws => {
            "a Google Speech Commands folder: one folder of 16 kHz WAV files per word, validation_list.txt and testing_list.txt"
        }
        Task::Vww => "a folder with person/ and non_person/ folders of JPEG or PNG images",
    }
}

/// Reads a whole file, naming it on failure (a missing file is an input error).
pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(DataError::no_file(path, what).into())
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Names `path` in a format error of a parser that sees only bytes.
pub(crate) fn in_file(path: &Path) -> impl FnOnce(Error) -> Error + '_ {
    move |e| match e {
        Error::Data(d) => Error::Data(Box::new(d.in_file(path))),
        other => other,
    }
}

/// The sorted entries of a folder, naming the folder on failure.
pub(crate) fn list_dir(dir: &Path, what: &str) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(DataError::no_folder(dir, what).into());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

/// A Fisher-Yates shuffle driven by the project RNG.
pub(crate) fn shuffle<T>(v: &mut [T], rng: &mut SeededRng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// Splits `0..labels.len()` per class into parts of the given fractions (the last part takes
/// the rest), shuffling each class with `rng`; every part is returned in ascending order.
pub(crate) fn stratified_split(
    labels: &[u32],
    classes: usize,
    fractions: &[f64],
    rng: &mut SeededRng,
) -> Vec<Vec<usize>> {
    let mut parts = vec![Vec::new(); fractions.len() + 1];
    for c in 0..classes as u32 {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        shuffle(&mut idx, rng);
        let n = idx.len();
        let mut start = 0;
        for (p, f) in fractions.iter().enumerate() {
            let k = ((n as f64 * f).round() as usize).min(n - start);
            parts[p].extend_from_slice(&idx[start..start + k]);
            start += k;
        }
        parts[fractions.len()].extend_from_slice(&idx[start..]);
    }
    for p in &mut parts {
        p.sort_unstable();
    }
    parts
}

/// Normalises interleaved-free planar samples in place: `(x - mean[c]) / std[c]` per channel.
pub(crate) fn normalise_channels(x: &mut [f32], shape: [usize; 3], mean: &[f32], std: &[f32]) {
    let plane = shape[1] * shape[2];
    let s = shape[0] * plane;
    for sample in x.chunks_exact_mut(s) {
        for (c, ch) in sample.chunks_exact_mut(plane).enumerate() {
            for v in ch {
                *v = (*v - mean[c]) / std[c];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    fn toy(n: usize, shape: [usize; 3]) -> Dataset {
        let s: usize = shape.iter().product();
        Dataset {
            x: (0..n * s).map(|v| v as f32).collect(),
            y: (0..n as u32).map(|i| i % 3).collect(),
            shape,
            classes: 3,
        }
    }

    #[test]
    fn gather_copies_samples_in_order() {
        let d = toy(4, [1, 2, 2]);
        assert_eq!(d.len(), 4);
        assert_eq!(d.sample_len(), 4);
        let (x, y) = d.gather(&[2, 0]);
        assert_eq!(x, vec![8.0, 9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(y, vec![2, 0]);
        assert_eq!(d.class_counts(), vec![2, 1, 1]);
        assert!(Dataset::empty([1, 2, 2], 3).is_empty());
    }

    #[test]
    fn crop_flip_keeps_values_and_shifts_within_padding() {
        let shape = [2, 5, 5];
        let d = toy(1, shape);
        let data = TaskData {
            task: Task::Cifar10,
            train: d.clone(),
            val: d.clone(),
            test: d.clone(),
            augment: Augment::CropFlip { pad: 1 },
            source: "toy".into(),
        };
        let mut rng = seeded(3);
        let mut saw_change = false;
        for _ in 0..20 {
            let (x, y) = data.train_batch(&[0], &mut rng);
            assert_eq!(y, vec![0]);
            assert_eq!(x.len(), 50);
            // Every value is either padding or one of the sample's own values of the same channel.
            for (i, v) in x.iter().enumerate() {
                let ch = i / 25;
                assert!(
                    *v == 0.0 || (*v >= (ch * 25) as f32 && *v < ((ch + 1) * 25) as f32),
                    "{v} at {i}"
                );
            }
            // The centre pixel moves by at most one pixel (or is mirrored).
            let centre = x[12];
            let allowed = [6.0, 7.0, 8.0, 11.0, 12.0, 13.0, 16.0, 17.0, 18.0];
            assert!(allowed.contains(&centre), "{centre}");
            saw_change |= x != d.x;
        }
        assert!(saw_change);
        let mut same = d.x.clone();
        Augment::None.apply(&mut same, shape, &mut rng);
        assert_eq!(same, d.x);
    }

    #[test]
    fn crop_flip_with_zero_pad_is_flip_or_identity() {
        let shape = [1, 2, 3];
        let d = toy(1, shape);
        let mut rng = seeded(5);
        for _ in 0..10 {
            let mut x = d.x.clone();
            Augment::CropFlip { pad: 0 }.apply(&mut x, shape, &mut rng);
            assert!(x == d.x || x == vec![2.0, 1.0, 0.0, 5.0, 4.0, 3.0], "{x:?}");
        }
    }

    #[test]
    fn stratified_split_is_disjoint_and_per_class() {
        let labels: Vec<u32> = (0..100).map(|i| (i % 4) as u32).collect();
        let parts = stratified_split(&labels, 4, &[0.6, 0.2], &mut seeded(1));
        assert_eq!(parts.len(), 3);
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![60, 20, 20]);
        let mut all: Vec<usize> = parts.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        for p in &parts {
            for c in 0..4 {
                let k = p.iter().filter(|&&i| labels[i] == c).count();
                assert_eq!(k * 4, p.len());
            }
        }
    }

    #[test]
    fn tasks_without_data_say_what_they_expect() {
        let e = load(Task::Cifar10, None, 0).unwrap_err().to_string();
        assert!(
            e.starts_with("--data: expected a data folder for task cifar10")
                && e.contains("data_batch_1.bin")
                && e.ends_with("got none"),
            "{e}"
        );
        let e = load(Task::Vww, None, 0).unwrap_err().to_string();
        assert!(e.contains("person/"), "{e}");
        let e = load(Task::Digits, Some(Path::new("x")), 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--data: expected no data folder for task digits"),
            "{e}"
        );
        let e = load(Task::Mnist, Some(Path::new("/nonexistent/mnist")), 0)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/nonexistent/mnist"), "{e}");
        assert!(!e.contains('\n'));
    }
}
