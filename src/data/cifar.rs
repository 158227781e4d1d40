//! The `cifar10` task: the CIFAR-10 binary version (`cifar-10-batches-bin/`).
//!
//! Each batch file is a sequence of 3,073-byte records: one label byte (0-9), then the 32x32
//! red, green and blue planes (1,024 bytes each, row-major).

use super::{Augment, DataError, Dataset, TaskData, in_file, normalise_channels, read_file};
use crate::error::Result;
use crate::task::Task;
use std::path::{Path, PathBuf};

/// Bytes of one record: a label and 3 x 32 x 32 pixels.
pub const RECORD: usize = 1 + 3 * 32 * 32;
/// Name of the folder of the binary batches.
pub const FOLDER: &str = "cifar-10-batches-bin";
/// The training batch files.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test batch file.
pub const TEST_FILE: &str = "test_batch.bin";
/// The usual CIFAR-10 per-channel mean of pixels scaled to [0, 1].
pub const MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
/// The usual CIFAR-10 per-channel standard deviation of pixels scaled to [0, 1].
pub const STD: [f32; 3] = [0.2470, 0.2435, 0.2616];
/// Fraction of the training records (the last ones) held out for validation: 5,000 of 50,000.
pub const VAL_FRACTION: f64 = 0.1;

/// Parses one batch file into pixels scaled to [0, 1] (planar RGB per image) and labels.
pub fn parse_batch(b: &[u8]) -> Result<(Vec<f32>, Vec<u32>)> {
    if b.is_empty() || !b.len().is_multiple_of(RECORD) {
        return Err(DataError::format(
            "file size",
            format!("a whole number of {RECORD}-byte records"),
            format!("{} bytes (truncated or malformed)", b.len()),
        )
        .into());
    }
    let n = b.len() / RECORD;
    let mut x = Vec::with_capacity(n * (RECORD - 1));
    let mut y = Vec::with_capacity(n);
    for (i, rec) in b.chunks_exact(RECORD).enumerate() {
        if rec[0] >= 10 {
            return Err(
                DataError::format(format!("record {i} label"), "0..9", rec[0].to_string()).into(),
            );
        }
        y.push(rec[0] as u32);
        x.extend(rec[1..].iter().map(|&p| p as f32 / 255.0));
    }
    Ok((x, y))
}

/// Reads one batch file.
pub fn read_batch(path: &Path) -> Result<(Vec<f32>, Vec<u32>)> {
    let b = read_file(path, "a CIFAR-10 binary batch")?;
    parse_batch(&b).map_err(in_file(path))
}

/// The folder that holds the batch files: `path/cifar-10-batches-bin` or `path` itself.
pub fn batches_dir(path: &Path) -> Result<PathBuf> {
    let inner = path.join(FOLDER);
    if inner.is_dir() {
        return Ok(inner);
    }
    if path.join(TRAIN_FILES[0]).is_file() || path.join(TEST_FILE).is_file() {
        return Ok(path.to_path_buf());
    }
    let layout = super::expected_layout(Task::Cifar10);
    Err(if path.is_dir() {
        DataError::NothingFound {
            path: path.display().to_string(),
            what: "data_batch_1.bin or cifar-10-batches-bin/".into(),
            expected: layout.into(),
        }
    } else {
        DataError::no_folder(path, layout)
    }
    .into())
}

/// Loads CIFAR-10 from `path`: the five training batches (the last [`VAL_FRACTION`] of their
/// records are validation) and the test batch; pixels normalised per channel with [`MEAN`] and
/// [`STD`]; training augmentation is a random crop with 4-pixel padding and a horizontal flip.
/// The split is fixed, so `_seed` is unused.
pub fn load(path: &Path, _seed: u64) -> Result<TaskData> {
    let dir = batches_dir(path)?;
    let shape = Task::Cifar10.input_shape();
    let classes = Task::Cifar10.classes();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for name in TRAIN_FILES {
        let (bx, by) = read_batch(&dir.join(name))?;
        x.extend(bx);
        y.extend(by);
    }
    let (mut tx, ty) = read_batch(&dir.join(TEST_FILE))?;
    normalise_channels(&mut x, shape, &MEAN, &STD);
    normalise_channels(&mut tx, shape, &MEAN, &STD);
    let n = y.len();
    let n_val = (n as f64 * VAL_FRACTION).round() as usize;
    let s = RECORD - 1;
    let val = Dataset {
        x: x.split_off((n - n_val) * s),
        y: y.split_off(n - n_val),
        shape,
        classes,
    };
    Ok(TaskData {
        task: Task::Cifar10,
        train: Dataset {
            x,
            y,
            shape,
            classes,
        },
        val,
        test: Dataset {
            x: tx,
            y: ty,
            shape,
            classes,
        },
        augment: Augment::CropFlip { pad: 4 },
        source: dir.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;

    /// `n` records; record `i` has label `(i + offset) % 10` and red = i, green = 128, blue = 255.
    fn records(n: usize, offset: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for i in 0..n {
            b.push(((i + offset) % 10) as u8);
            b.extend(std::iter::repeat_n(i as u8, 1024));
            b.extend(std::iter::repeat_n(128u8, 1024));
            b.extend(std::iter::repeat_n(255u8, 1024));
        }
        b
    }

    fn write_cifar(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for (k, name) in TRAIN_FILES.iter().enumerate() {
            std::fs::write(dir.join(name), records(4, k * 4)).unwrap();
        }
        std::fs::write(dir.join(TEST_FILE), records(3, 7)).unwrap();
    }

    #[test]
    fn cifar_reads_binary_batches_from_either_folder() {
        let root = temp_dir("cifar");
        write_cifar(&root.join(FOLDER));
        for p in [root.clone(), root.join(FOLDER)] {
            let d = load(&p, 0).unwrap();
            assert_eq!((d.train.len(), d.val.len(), d.test.len()), (18, 2, 3));
            assert_eq!(d.train.shape, [3, 32, 32]);
            assert_eq!(d.augment, Augment::CropFlip { pad: 4 });
            assert_eq!(d.train.y[..5], [0, 1, 2, 3, 4]);
            assert_eq!(d.val.y, vec![8, 9]);
            assert_eq!(d.test.y, vec![7, 8, 9]);
            // Test record 2: red = 2, green = 128, blue = 255, normalised per channel.
            let s = 3 * 1024;
            let px = |c: usize| d.test.x[2 * s + c * 1024 + 500];
            let want = |v: f32, c: usize| (v / 255.0 - MEAN[c]) / STD[c];
            for (c, v) in [(0, 2.0), (1, 128.0), (2, 255.0)] {
                assert!((px(c) - want(v, c)).abs() < 1e-6, "channel {c}");
            }
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn cifar_malformed_batches_name_the_file() {
        let root = temp_dir("cifar-bad");
        write_cifar(&root);
        let f = root.join("data_batch_3.bin");
        let good = std::fs::read(&f).unwrap();
        std::fs::write(&f, &good[..good.len() - 1]).unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(
            e.contains(
                "data_batch_3.bin: file size: expected a whole number of 3073-byte records, got"
            ),
            "{e}"
        );
        let mut bad = good.clone();
        bad[RECORD] = 10;
        std::fs::write(&f, &bad).unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(
            e.contains("data_batch_3.bin: record 1 label: expected 0..9, got 10"),
            "{e}"
        );
        std::fs::write(&f, &good).unwrap();
        std::fs::remove_file(root.join(TEST_FILE)).unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(e.contains("test_batch.bin: file not found"), "{e}");
        let e = load(&root.join("nothing"), 0).unwrap_err().to_string();
        assert!(
            e.contains("nothing: folder not found (expected cifar-10-batches-bin/"),
            "{e}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
