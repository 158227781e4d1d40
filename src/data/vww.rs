//! The `vww` task: Visual Wake Words, a folder with `person/` and `non_person/` images
//! (JPEG or PNG), resized to 96x96 RGB.

use super::{
    Augment, DataError, Dataset, TaskData, in_file, list_dir, normalise_channels, read_file,
};
use crate::error::Result;
use crate::rng::{derive_seed, seeded};
use crate::task::Task;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The class folders, in class order: 0 = `non_person`, 1 = `person`.
pub const CLASS_DIRS: [&str; 2] = ["non_person", "person"];
/// Fraction of each class in the validation and test splits (the rest is training).
pub const HOLD_OUT: f64 = 0.1;
/// Seed of the test split (fixed, so that it never depends on the training seed).
pub const TEST_SEED: u64 = 0x7677_7774;
/// Per-channel mean of pixels scaled to [0, 1] (ImageNet's, which VWW's COCO images share).
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// Per-channel standard deviation of pixels scaled to [0, 1] (ImageNet's).
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Decodes a JPEG or PNG image and resizes it (bilinear) to `side x side` RGB, planar, in
/// [0, 1].
pub fn decode(bytes: &[u8], side: u32) -> Result<Vec<f32>> {
    let img = image::load_from_memory(bytes)
        .map_err(|e| DataError::format("image", "a JPEG or PNG image", e.to_string()))?;
    let rgb = image::imageops::resize(
        &img.to_rgb8(),
        side,
        side,
        image::imageops::FilterType::Triangle,
    );
    let plane = (side * side) as usize;
    let mut out = vec![0.0f32; 3 * plane];
    for (i, p) in rgb.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = p.0[c] as f32 / 255.0;
        }
    }
    Ok(out)
}

/// Reads and decodes one image file.
pub fn read_image(path: &Path, side: u32) -> Result<Vec<f32>> {
    let b = read_file(path, "a JPEG or PNG image")?;
    decode(&b, side).map_err(in_file(path))
}

fn is_image(p: &Path) -> bool {
    p.is_file()
        && p.extension().is_some_and(|e| {
            let e = e.to_string_lossy().to_ascii_lowercase();
            matches!(e.as_str(), "jpg" | "jpeg" | "png")
        })
}

/// Loads a VWW folder: every `.jpg`, `.jpeg` and `.png` file of `non_person/` (class 0) and
/// `person/` (class 1), resized to 96x96 and normalised with [`MEAN`] and [`STD`]. Per class,
/// [`HOLD_OUT`] of the images go to test (fixed by [`TEST_SEED`]) and as many to validation
/// (picked by `seed`); training adds a random crop (4-pixel padding) and horizontal flip.
pub fn load(root: &Path, seed: u64) -> Result<TaskData> {
    if !root.is_dir() {
        return Err(DataError::no_folder(root, super::expected_layout(Task::Vww)).into());
    }
    let shape = Task::Vww.input_shape();
    let side = shape[1] as u32;
    let mut parts: [Vec<(PathBuf, u32)>; 3] = Default::default();
    for (class, name) in CLASS_DIRS.iter().enumerate() {
        let dir = root.join(name);
        let mut files: Vec<PathBuf> = list_dir(&dir, "a folder of JPEG or PNG images")?
            .into_iter()
            .filter(|p| is_image(p))
            .collect();
        if files.is_empty() {
            return Err(DataError::NothingFound {
                path: dir.display().to_string(),
                what: "images".into(),
                expected: "at least one .jpg, .jpeg or .png image".into(),
            }
            .into());
        }
        let n = files.len();
        let k = ((n as f64 * HOLD_OUT).round() as usize).min(n);
        super::shuffle(
            &mut files,
            &mut seeded(derive_seed(TEST_SEED, class as u64)),
        );
        let mut rest = files.split_off(k);
        let test = files;
        super::shuffle(
            &mut rest,
            &mut seeded(derive_seed(seed, 0x7677 + class as u64)),
        );
        let train = rest.split_off(k.min(rest.len()));
        let val = rest;
        for (p, list) in [train, val, test].into_iter().enumerate() {
            parts[p].extend(list.into_iter().map(|f| (f, class as u32)));
        }
    }
    let mut splits = Vec::with_capacity(3);
    for part in &mut parts {
        part.sort();
        let images: Vec<Vec<f32>> = part
            .par_iter()
            .map(|(p, _)| read_image(p, side))
            .collect::<Result<_>>()?;
        let mut x: Vec<f32> = images.into_iter().flatten().collect();
        normalise_channels(&mut x, shape, &MEAN, &STD);
        splits.push(Dataset {
            x,
            y: part.iter().map(|(_, c)| *c).collect(),
            shape,
            classes: Task::Vww.classes(),
        });
    }
    let test = splits.pop().expect("three splits");
    let val = splits.pop().expect("three splits");
    let train = splits.pop().expect("three splits");
    Ok(TaskData {
        task: Task::Vww,
        train,
        val,
        test,
        augment: Augment::CropFlip { pad: 4 },
        source: root.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use image::{ImageFormat, Rgb, RgbImage};

    fn write_image(path: &Path, w: u32, h: u32, colour: [u8; 3], format: ImageFormat) {
        let img = RgbImage::from_pixel(w, h, Rgb(colour));
        img.save_with_format(path, format).unwrap();
    }

    fn write_vww(root: &Path) {
        std::fs::create_dir_all(root.join("person")).unwrap();
        std::fs::create_dir_all(root.join("non_person")).unwrap();
        for i in 0..10 {
            write_image(
                &root.join(format!("person/p{i}.png")),
                40 + i,
                30,
                [255, 0, 0],
                ImageFormat::Png,
            );
            write_image(
                &root.join(format!("non_person/n{i}.jpg")),
                120,
                100 + i,
                [0, 0, 255],
                ImageFormat::Jpeg,
            );
        }
        std::fs::write(root.join("person/notes.txt"), "skip me").unwrap();
    }

    #[test]
    fn vww_reads_png_and_jpeg_folders() {
        let root = temp_dir("vww");
        write_vww(&root);
        let d = load(&root, 1).unwrap();
        assert_eq!((d.train.len(), d.val.len(), d.test.len()), (16, 2, 2));
        assert_eq!(d.train.shape, [3, 96, 96]);
        assert_eq!(d.train.x.len(), 16 * 3 * 96 * 96);
        assert_eq!(d.test.class_counts(), vec![1, 1]);
        assert_eq!(d.augment, Augment::CropFlip { pad: 4 });
        // A red person image: red channel at 1.0, blue at 0.0 after resizing (exact for PNG).
        let plane = 96 * 96;
        let i = d.train.y.iter().position(|&c| c == 1).unwrap();
        let s = &d.train.x[i * 3 * plane..(i + 1) * 3 * plane];
        let red = (1.0 - MEAN[0]) / STD[0];
        let blue0 = (0.0 - MEAN[2]) / STD[2];
        assert!(s[..plane].iter().all(|v| (v - red).abs() < 1e-5));
        assert!(s[2 * plane..].iter().all(|v| (v - blue0).abs() < 1e-5));
        // A blue non-person JPEG: blue channel near 1.0.
        let j = d.train.y.iter().position(|&c| c == 0).unwrap();
        let b = d.train.x[j * 3 * plane + 2 * plane + 4000] * STD[2] + MEAN[2];
        assert!(b > 0.95, "{b}");
        // The test split does not depend on the seed; validation does not overlap it.
        let other = load(&root, 2).unwrap();
        assert_eq!(other.test, d.test);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn vww_bad_images_and_folders_name_the_path() {
        let root = temp_dir("vww-bad");
        write_vww(&root);
        std::fs::write(root.join("person/p3.png"), b"\x89PNG\r\n\x1a\nbroken").unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(
            e.contains("person/p3.png: image: expected a JPEG or PNG image, got"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        std::fs::remove_dir_all(root.join("non_person")).unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(e.contains("non_person: folder not found"), "{e}");
        std::fs::create_dir_all(root.join("non_person")).unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(
            e.contains("non_person: no images found (expected at least one"),
            "{e}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
