//! The `mnist` task: the original MNIST IDX files, gzipped or not.
//!
//! IDX format: a big-endian header (magic 2051 for images with count, rows, cols; magic 2049
//! for labels with count), then one unsigned byte per pixel or label.

use super::{Augment, DataError, Dataset, TaskData, in_file, read_file, shuffle};
use crate::error::Result;
use crate::rng::{derive_seed, seeded};
use crate::task::Task;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Magic number of an IDX image file (unsigned bytes, 3 dimensions).
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX label file (unsigned bytes, 1 dimension).
pub const LABELS_MAGIC: u32 = 2049;
/// The usual MNIST pixel mean and standard deviation (of pixels scaled to [0, 1]).
pub const MEAN_STD: (f32, f32) = (0.1307, 0.3081);
/// Fraction of the training file held out for validation.
pub const VAL_FRACTION: f64 = 0.1;

/// Images of an IDX file: `count` images of `rows x cols` bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows of each image.
    pub rows: usize,
    /// Columns of each image.
    pub cols: usize,
    /// `count * rows * cols` pixels, row-major.
    pub pixels: Vec<u8>,
}

/// Decompresses `bytes` when they start with the gzip magic number; otherwise returns them.
pub fn maybe_gunzip(bytes: Vec<u8>) -> Result<Vec<u8>> {
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .map_err(|e| DataError::format("gzip data", "a valid gzip stream", e.to_string()))?;
    Ok(out)
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an (uncompressed) IDX image file.
pub fn parse_images(b: &[u8]) -> Result<IdxImages> {
    if b.len() < 16 {
        let got = format!("{} bytes (truncated)", b.len());
        return Err(DataError::format("IDX header", "16 bytes", got).into());
    }
    let magic = be_u32(b, 0);
    if magic != IMAGES_MAGIC {
        let want = format!("{IMAGES_MAGIC} (IDX images)");
        return Err(DataError::format("magic number", want, magic.to_string()).into());
    }
    let (count, rows, cols) = (
        be_u32(b, 4) as usize,
        be_u32(b, 8) as usize,
        be_u32(b, 12) as usize,
    );
    let want = count
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .ok_or_else(|| {
            let got = format!("{count} x {rows} x {cols}, which overflows");
            DataError::format("IDX header", "a pixel count that fits in memory", got)
        })?;
    let got = b.len() - 16;
    if got != want {
        let what = if got < want {
            "truncated"
        } else {
            "trailing data"
        };
        let expected = format!("{want} bytes for {count} images of {rows}x{cols}");
        return Err(DataError::format("pixel data", expected, format!("{got} ({what})")).into());
    }
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: b[16..].to_vec(),
    })
}

/// Parses an (uncompressed) IDX label file; every label must be `< classes`.
pub fn parse_labels(b: &[u8], classes: usize) -> Result<Vec<u32>> {
    if b.len() < 8 {
        let got = format!("{} bytes (truncated)", b.len());
        return Err(DataError::format("IDX header", "8 bytes", got).into());
    }
    let magic = be_u32(b, 0);
    if magic != LABELS_MAGIC {
        let want = format!("{LABELS_MAGIC} (IDX labels)");
        return Err(DataError::format("magic number", want, magic.to_string()).into());
    }
    let count = be_u32(b, 4) as usize;
    let got = b.len() - 8;
    if got != count {
        let what = if got < count {
            "truncated"
        } else {
            "trailing data"
        };
        let expected = format!("{count} bytes");
        return Err(DataError::format("label data", expected, format!("{got} ({what})")).into());
    }
    let labels = &b[8..];
    if let Some(i) = labels.iter().position(|&l| l as usize >= classes) {
        let want = format!("0..{}", classes - 1);
        return Err(DataError::format(format!("label {i}"), want, labels[i].to_string()).into());
    }
    Ok(labels.iter().map(|&l| l as u32).collect())
}

/// The file `name` or `name.gz` in `dir` (the uncompressed one when both exist).
pub fn find_idx(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(DataError::no_file(
        &raw,
        format!("{name} or {name}.gz in {}, MNIST IDX", dir.display()),
    )
    .into())
}

/// Reads an IDX image file, gzipped or not.
pub fn read_images(path: &Path) -> Result<IdxImages> {
    let bytes = read_file(path, "an IDX image file")?;
    maybe_gunzip(bytes)
        .and_then(|b| parse_images(&b))
        .map_err(in_file(path))
}

/// Reads an IDX label file, gzipped or not.
pub fn read_labels(path: &Path, classes: usize) -> Result<Vec<u32>> {
    let bytes = read_file(path, "an IDX label file")?;
    maybe_gunzip(bytes)
        .and_then(|b| parse_labels(&b, classes))
        .map_err(in_file(path))
}

/// Reads one image/label pair of files into a split (pixels scaled and standardised).
fn read_split(dir: &Path, images: &str, labels: &str) -> Result<Dataset> {
    let ip = find_idx(dir, images)?;
    let lp = find_idx(dir, labels)?;
    let img = read_images(&ip)?;
    let [_, h, w] = Task::Mnist.input_shape();
    if (img.rows, img.cols) != (h, w) {
        return Err(DataError::Format {
            file: ip.display().to_string(),
            field: "image size".into(),
            expected: format!("{h}x{w}"),
            got: format!("{}x{}", img.rows, img.cols),
        }
        .into());
    }
    let y = read_labels(&lp, Task::Mnist.classes())?;
    if y.len() != img.count {
        return Err(DataError::Format {
            file: lp.display().to_string(),
            field: "label count".into(),
            expected: format!("{} (one per image of {})", img.count, ip.display()),
            got: y.len().to_string(),
        }
        .into());
    }
    let (m, s) = MEAN_STD;
    Ok(Dataset {
        x: img
            .pixels
            .iter()
            .map(|&p| (p as f32 / 255.0 - m) / s)
            .collect(),
        y,
        shape: Task::Mnist.input_shape(),
        classes: Task::Mnist.classes(),
    })
}

/// Loads MNIST from `dir`: `train-*` gives training and validation ([`VAL_FRACTION`] of it,
/// picked by `seed`), `t10k-*` the test split. Pixels are scaled to [0, 1] and standardised
/// with [`MEAN_STD`].
pub fn load(dir: &Path, seed: u64) -> Result<TaskData> {
    if !dir.is_dir() {
        return Err(DataError::no_folder(dir, super::expected_layout(Task::Mnist)).into());
    }
    let full = read_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")?;
    let test = read_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?;
    let mut idx: Vec<usize> = (0..full.len()).collect();
    shuffle(&mut idx, &mut seeded(derive_seed(seed, 0x6d6e_6973)));
    let n_val = (full.len() as f64 * VAL_FRACTION).round() as usize;
    let (val_idx, train_idx) = idx.split_at(n_val);
    let (mut val_idx, mut train_idx) = (val_idx.to_vec(), train_idx.to_vec());
    val_idx.sort_unstable();
    train_idx.sort_unstable();
    Ok(TaskData {
        task: Task::Mnist,
        train: full.subset(&train_idx),
        val: full.subset(&val_idx),
        test,
        augment: Augment::None,
        source: dir.display().to_string(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_support::{repo, temp_dir};
    use std::io::Write;

    pub fn idx_images(count: usize, rows: usize, cols: usize, f: impl Fn(usize) -> u8) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [IMAGES_MAGIC, count as u32, rows as u32, cols as u32] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend((0..count * rows * cols).map(f));
        b
    }

    pub fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
        b.extend_from_slice(labels);
        b
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    /// Writes a tiny MNIST folder: 20 train and 5 test images, gzipped or raw.
    fn write_mnist(dir: &Path, gzip: bool) {
        let files = [
            (
                "train-images-idx3-ubyte",
                idx_images(20, 28, 28, |i| (i % 256) as u8),
            ),
            (
                "train-labels-idx1-ubyte",
                idx_labels(&(0..20).map(|i| (i % 10) as u8).collect::<Vec<_>>()),
            ),
            ("t10k-images-idx3-ubyte", idx_images(5, 28, 28, |_| 255)),
            ("t10k-labels-idx1-ubyte", idx_labels(&[9, 8, 7, 6, 5])),
        ];
        for (name, bytes) in files {
            if gzip {
                std::fs::write(dir.join(format!("{name}.gz")), gz(&bytes)).unwrap();
            } else {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }

    #[test]
    fn mnist_reads_raw_and_gzipped_idx() {
        for gzip in [false, true] {
            let dir = temp_dir(&format!("mnist-{gzip}"));
            write_mnist(&dir, gzip);
            let d = load(&dir, 7).unwrap();
            assert_eq!((d.train.len(), d.val.len(), d.test.len()), (18, 2, 5));
            assert_eq!(d.train.shape, [1, 28, 28]);
            assert_eq!(d.test.y, vec![9, 8, 7, 6, 5]);
            let white = (1.0 - MEAN_STD.0) / MEAN_STD.1;
            assert!(d.test.x.iter().all(|&v| (v - white).abs() < 1e-6));
            // Train and validation together are the training file, each image with its label.
            let (m, sd) = MEAN_STD;
            let mut pairs: Vec<(u32, i32)> = Vec::new();
            for split in [&d.train, &d.val] {
                for i in 0..split.len() {
                    let p = ((split.x[i * 784] * sd + m) * 255.0).round() as i32;
                    pairs.push((split.y[i], p));
                }
            }
            pairs.sort_unstable();
            let mut want: Vec<(u32, i32)> =
                (0..20).map(|i| ((i % 10) as u32, i * 784 % 256)).collect();
            want.sort_unstable();
            assert_eq!(pairs, want);
            // Same seed, same validation; the test split ignores the seed.
            let again = load(&dir, 7).unwrap();
            assert_eq!(again.val, d.val);
            let other = load(&dir, 8).unwrap();
            assert_eq!(other.test, d.test);
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn mnist_malformed_files_name_the_file() {
        let dir = temp_dir("mnist-bad");
        write_mnist(&dir, false);
        let img = dir.join("train-images-idx3-ubyte");
        let good = std::fs::read(&img).unwrap();

        std::fs::write(&img, &good[..good.len() - 10]).unwrap();
        let e = load(&dir, 0).unwrap_err().to_string();
        assert!(
            e.contains("train-images-idx3-ubyte: pixel data: expected")
                && e.contains("(truncated)"),
            "{e}"
        );

        let mut bad = good.clone();
        bad[3] = 0x01;
        std::fs::write(&img, &bad).unwrap();
        let e = load(&dir, 0).unwrap_err().to_string();
        assert!(
            e.contains("train-images-idx3-ubyte: magic number: expected 2051"),
            "{e}"
        );

        std::fs::write(&img, idx_images(20, 8, 8, |_| 0)).unwrap();
        let e = load(&dir, 0).unwrap_err().to_string();
        assert!(e.contains("image size: expected 28x28, got 8x8"), "{e}");

        std::fs::write(&img, idx_images(19, 28, 28, |_| 0)).unwrap();
        let e = load(&dir, 0).unwrap_err().to_string();
        assert!(
            e.contains("train-labels-idx1-ubyte: label count: expected 19 (one per image"),
            "{e}"
        );

        std::fs::write(&img, &good).unwrap();
        let lab = dir.join("train-labels-idx1-ubyte");
        let mut labels = vec![0u8; 20];
        labels[4] = 10;
        std::fs::write(&lab, idx_labels(&labels)).unwrap();
        let e = load(&dir, 0).unwrap_err().to_string();
        assert!(
            e.contains("train-labels-idx1-ubyte: label 4: expected 0..9, got 10"),
            "{e}"
        );

        std::fs::remove_file(&lab).unwrap();
        let e = load(&dir, 0).unwrap_err().to_string();
        assert!(
            e.contains("train-labels-idx1-ubyte: file not found (expected train-labels-idx1-ubyte or train-labels-idx1-ubyte.gz"),
            "{e}"
        );

        let gzp = dir.join("train-labels-idx1-ubyte.gz");
        let z = gz(&idx_labels(&[0; 20]));
        std::fs::write(&gzp, &z[..z.len() / 2]).unwrap();
        let e = load(&dir, 0).unwrap_err().to_string();
        assert!(
            e.contains("train-labels-idx1-ubyte.gz: gzip data: expected a valid gzip stream, got"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn mnist_5k_shipped_copy_loads() {
        let d = load(&repo().join("data/mnist-5k"), 1).unwrap();
        assert_eq!(
            (d.train.len(), d.val.len(), d.test.len()),
            (3600, 400, 1000)
        );
        assert_eq!(d.test.class_counts(), vec![100; 10]);
        let mean = d.test.x.iter().sum::<f32>() / d.test.x.len() as f32;
        assert!(mean.abs() < 0.2, "{mean}");
    }
}
