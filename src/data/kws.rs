//! The `kws` task: keyword spotting on a Google Speech Commands folder, as MLPerf Tiny does it.
//!
//! Layout: one folder per word of 16 kHz mono 16-bit WAV clips (`yes/abcd1234_nohash_0.wav`),
//! `validation_list.txt` and `testing_list.txt` with one relative clip path per line (every
//! other clip is training data), and optionally `_background_noise_/` with longer noise
//! recordings. Classes: the ten [`KEYWORDS`] (0-9), [`SILENCE`] (10) and [`UNKNOWN`] (11).
//! Each clip becomes 49 x 10 MFCCs ([`super::mfcc`]), standardised per coefficient with the
//! training split's statistics.

use super::mfcc::Mfcc;
use super::{Augment, DataError, Dataset, TaskData, list_dir, read_file, shuffle, wav};
use crate::error::Result;
use crate::rng::{SeededRng, derive_seed, seeded};
use crate::task::Task;
use rand::RngExt;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The ten keywords, in class order.
pub const KEYWORDS: [&str; 10] = [
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
];
/// Class of 1 s slices of background noise.
pub const SILENCE: u32 = 10;
/// Class of clips of words that are not keywords.
pub const UNKNOWN: u32 = 11;
/// Sample rate of every clip.
pub const SAMPLE_RATE: u32 = 16000;
/// Samples of one clip (1 s); shorter clips are padded with zeros, longer ones trimmed.
pub const CLIP: usize = 16000;
/// The folder of background-noise recordings.
pub const NOISE_DIR: &str = "_background_noise_";
/// The list of validation clips.
pub const VAL_LIST: &str = "validation_list.txt";
/// The list of test clips.
pub const TEST_LIST: &str = "testing_list.txt";
/// Seed of the test split's silence slices and unknown-word choice (fixed).
pub const TEST_SEED: u64 = 0x6b77_7374;

/// Reads a clip list: one relative path per line (blank lines ignored).
pub fn parse_list(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().replace('\\', "/")))
        .filter(|(_, l)| !l.is_empty())
        .collect()
}

fn read_list(path: &Path) -> Result<Vec<(usize, String)>> {
    let b = read_file(
        path,
        "a list of clips, one relative path per line, as in Speech Commands",
    )?;
    let text = String::from_utf8(b).map_err(|e| DataError::Format {
        file: path.display().to_string(),
        field: "text".into(),
        expected: "UTF-8 text".into(),
        got: format!("invalid UTF-8 after byte {}", e.utf8_error().valid_up_to()),
    })?;
    Ok(parse_list(&text))
}

fn is_wav(p: &Path) -> bool {
    p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

/// The class of a word folder: its keyword index, or [`UNKNOWN`].
pub fn word_class(word: &str) -> u32 {
    KEYWORDS
        .iter()
        .position(|k| *k == word)
        .map_or(UNKNOWN, |i| i as u32)
}

/// One split's clips before feature extraction.
#[derive(Default)]
struct SplitPlan {
    /// Clip files with their class.
    clips: Vec<(PathBuf, u32)>,
    /// Silence slices: (noise file index, offset in samples).
    silence: Vec<(usize, usize)>,
}

/// Loads a Speech Commands folder. Unknown words and silence get about as many samples per
/// split as an average keyword (the unknown clips chosen at random among the other words;
/// silence as random 1 s slices of the background-noise files, none when there are none);
/// the choice for the test split is fixed, for training and validation it follows `seed`.
pub fn load(root: &Path, seed: u64) -> Result<TaskData> {
    let entries = list_dir(root, super::expected_layout(Task::Kws))?;
    let val_list = read_list(&root.join(VAL_LIST))?;
    let test_list = read_list(&root.join(TEST_LIST))?;

    let mut words: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for dir in entries.iter().filter(|p| p.is_dir()) {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name == NOISE_DIR || name.starts_with('.') {
            continue;
        }
        let clips: Vec<PathBuf> = list_dir(dir, "a folder of WAV clips")?
            .into_iter()
            .filter(|p| is_wav(p))
            .collect();
        words.push((name, clips));
    }
    if !words
        .iter()
        .any(|(w, c)| word_class(w) != UNKNOWN && !c.is_empty())
    {
        return Err(DataError::NothingFound {
            path: root.display().to_string(),
            what: "keyword clips".into(),
            expected: format!(
                "folders of WAV files named after the keywords {}",
                KEYWORDS.join("/")
            ),
        }
        .into());
    }

    // Every listed clip must exist, and no clip may be in both lists.
    let all: HashSet<String> = words
        .iter()
        .flat_map(|(w, clips)| {
            clips.iter().map(move |p| {
                format!(
                    "{w}/{}",
                    p.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    let mut split_of: HashMap<&str, usize> = HashMap::new();
    for (s, (name, list)) in [(1, (VAL_LIST, &val_list)), (2, (TEST_LIST, &test_list))] {
        for (line, rel) in list.iter() {
            if !all.contains(rel) {
                return Err(DataError::Line {
                    file: root.join(name).display().to_string(),
                    line: *line,
                    expected: format!("a WAV clip under {}", root.display()),
                    got: format!("{rel} (not found)"),
                }
                .into());
            }
            if let Some(prev) = split_of.insert(rel, s)
                && prev != s
            {
                return Err(DataError::Line {
                    file: root.join(name).display().to_string(),
                    line: *line,
                    expected: "each clip in at most one list".into(),
                    got: format!("{rel}, also in {VAL_LIST}"),
                }
                .into());
            }
        }
    }

    let noise = read_noise(root)?;
    let rngs = [
        seeded(derive_seed(seed, 1)),
        seeded(derive_seed(seed, 2)),
        seeded(TEST_SEED),
    ];
    let mut plans: [SplitPlan; 3] = Default::default();
    let mut unknown: [Vec<PathBuf>; 3] = Default::default();
    for (w, clips) in &words {
        let class = word_class(w);
        for p in clips {
            let rel = format!(
                "{w}/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            let s = split_of.get(rel.as_str()).copied().unwrap_or(0);
            if class == UNKNOWN {
                unknown[s].push(p.clone());
            } else {
                plans[s].clips.push((p.clone(), class));
            }
        }
    }
    for (s, mut rng) in rngs.into_iter().enumerate() {
        let plan = &mut plans[s];
        let present = KEYWORDS
            .iter()
            .enumerate()
            .filter(|(k, _)| plan.clips.iter().any(|(_, c)| *c == *k as u32))
            .count();
        if present == 0 {
            continue;
        }
        let avg = (plan.clips.len() as f64 / present as f64).round() as usize;
        let mut others = std::mem::take(&mut unknown[s]);
        shuffle(&mut others, &mut rng);
        others.truncate(avg);
        others.sort();
        plan.clips.extend(others.into_iter().map(|p| (p, UNKNOWN)));
        plan.clips.sort();
        if !noise.is_empty() {
            plan.silence = (0..avg).map(|_| silence_slice(&noise, &mut rng)).collect();
        }
    }
    if plans[0].clips.is_empty() {
        return Err(DataError::NothingFound {
            path: root.display().to_string(),
            what: "training clips".into(),
            expected: format!("clips that are in neither {VAL_LIST} nor {TEST_LIST}"),
        }
        .into());
    }
    if plans[2].clips.is_empty() {
        return Err(DataError::NothingFound {
            path: root.join(TEST_LIST).display().to_string(),
            what: "keyword clips".into(),
            expected: "the clips of the test split, one relative path per line".into(),
        }
        .into());
    }

    let mfcc = Mfcc::default();
    let shape = Task::Kws.input_shape();
    let mut splits = Vec::with_capacity(3);
    for plan in &plans {
        splits.push(features(plan, &noise, &mfcc, shape)?);
    }
    let mut test = splits.pop().expect("three splits");
    let mut val = splits.pop().expect("three splits");
    let mut train = splits.pop().expect("three splits");
    let (mean, std) = coefficient_stats(&train);
    for d in [&mut train, &mut val, &mut test] {
        let w = shape[2];
        for (i, v) in d.x.iter_mut().enumerate() {
            let k = i % w;
            *v = (*v - mean[k]) / std[k];
        }
    }
    Ok(TaskData {
        task: Task::Kws,
        train,
        val,
        test,
        augment: Augment::None,
        source: root.display().to_string(),
    })
}

/// The background-noise recordings (each padded to at least [`CLIP`] samples).
fn read_noise(root: &Path) -> Result<Vec<Vec<f32>>> {
    let dir = root.join(NOISE_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    list_dir(&dir, "background-noise WAV files")?
        .into_par_iter()
        .filter(|p| is_wav(p))
        .map(|p| {
            let x = wav::read_mono(&p, SAMPLE_RATE)?;
            let n = x.len().max(CLIP);
            Ok(wav::fit_length(x, n))
        })
        .collect()
}

fn silence_slice(noise: &[Vec<f32>], rng: &mut SeededRng) -> (usize, usize) {
    let f = rng.random_range(0..noise.len());
    let off = rng.random_range(0..=noise[f].len() - CLIP);
    (f, off)
}

/// MFCCs of every clip and silence slice of a split (in parallel, order kept).
fn features(
    plan: &SplitPlan,
    noise: &[Vec<f32>],
    mfcc: &Mfcc,
    shape: [usize; 3],
) -> Result<Dataset> {
    let clips: Vec<Vec<f32>> = plan
        .clips
        .par_iter()
        .map(|(p, _)| {
            let x = wav::fit_length(wav::read_mono(p, SAMPLE_RATE)?, CLIP);
            Ok(mfcc.compute(&x))
        })
        .collect::<Result<_>>()?;
    let silence: Vec<Vec<f32>> = plan
        .silence
        .par_iter()
        .map(|&(f, off)| mfcc.compute(&noise[f][off..off + CLIP]))
        .collect();
    let mut y: Vec<u32> = plan.clips.iter().map(|(_, c)| *c).collect();
    y.extend(std::iter::repeat_n(SILENCE, silence.len()));
    Ok(Dataset {
        x: clips.into_iter().chain(silence).flatten().collect(),
        y,
        shape,
        classes: Task::Kws.classes(),
    })
}

/// Mean and standard deviation of each coefficient (the last axis) over a split.
fn coefficient_stats(d: &Dataset) -> (Vec<f32>, Vec<f32>) {
    let w = d.shape[2];
    let mut sum = vec![0.0f64; w];
    let mut sq = vec![0.0f64; w];
    for (i, &v) in d.x.iter().enumerate() {
        sum[i % w] += v as f64;
        sq[i % w] += (v as f64) * (v as f64);
    }
    let n = (d.x.len() / w).max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(s, m)| {
            let sd = (s / n - m * m).max(0.0).sqrt();
            if sd > 1e-6 { sd as f32 } else { 1.0 }
        })
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{repo, temp_dir};

    /// A tone clip of `hz` Hz, `n` samples.
    fn tone(hz: f64, n: usize) -> Vec<u8> {
        let s: Vec<i16> = (0..n)
            .map(|i| (8000.0 * (std::f64::consts::TAU * hz * i as f64 / 16000.0).sin()) as i16)
            .collect();
        wav::encode(&s, 16000, 1)
    }

    /// yes (3 speakers), no (3 speakers), an unknown word `tree` (5 clips), background noise.
    fn write_kws(root: &Path, with_noise: bool) {
        for (w, hz) in [("yes", 440.0), ("no", 1200.0), ("tree", 3000.0)] {
            std::fs::create_dir_all(root.join(w)).unwrap();
            let n = if w == "tree" { 5 } else { 3 };
            for s in 0..n {
                // Clips of varied length: padded or trimmed to 1 s.
                let len = 12000 + 3000 * s;
                std::fs::write(root.join(format!("{w}/spk{s}_nohash_0.wav")), tone(hz, len))
                    .unwrap();
            }
        }
        std::fs::write(root.join("yes/readme.txt"), "not a clip").unwrap();
        std::fs::write(
            root.join(VAL_LIST),
            "yes/spk1_nohash_0.wav\nno/spk1_nohash_0.wav\n",
        )
        .unwrap();
        std::fs::write(
            root.join(TEST_LIST),
            "yes/spk2_nohash_0.wav\r\nno/spk2_nohash_0.wav\r\ntree/spk4_nohash_0.wav\r\n",
        )
        .unwrap();
        if with_noise {
            std::fs::create_dir_all(root.join(NOISE_DIR)).unwrap();
            let noise: Vec<i16> = (0..40000)
                .map(|i| ((i * 7919) % 2001) as i16 - 1000)
                .collect();
            std::fs::write(
                root.join(NOISE_DIR).join("hiss.wav"),
                wav::encode(&noise, 16000, 1),
            )
            .unwrap();
            std::fs::write(root.join(NOISE_DIR).join("README.md"), "noise").unwrap();
        }
    }

    #[test]
    fn kws_reads_speech_commands_layout() {
        let root = temp_dir("kws");
        write_kws(&root, true);
        let d = load(&root, 3).unwrap();
        assert_eq!(d.train.shape, [1, 49, 10]);
        assert_eq!(d.train.classes, 12);
        // Train: yes/spk0, no/spk0, 1 of 3 unknown clips, 1 silence slice.
        assert_eq!(d.train.y, vec![1, UNKNOWN, 0, SILENCE]);
        assert_eq!(d.val.y, vec![1, 0, SILENCE]);
        assert_eq!(d.test.y, vec![1, UNKNOWN, 0, SILENCE]);
        assert_eq!(d.train.x.len(), 4 * 490);
        assert!(d.test.x.iter().all(|v| v.is_finite()));
        // Standardised with the training statistics: each coefficient has mean 0 there.
        for k in 0..10 {
            let m: f32 = d.train.x.iter().skip(k).step_by(10).sum::<f32>() / (4.0 * 49.0);
            assert!(m.abs() < 1e-4, "c{k} mean {m}");
        }
        // Same seed, same data; the test split never depends on the seed.
        assert_eq!(load(&root, 3).unwrap().train, d.train);
        assert_eq!(load(&root, 4).unwrap().test.y, d.test.y);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn kws_without_background_noise_has_no_silence() {
        let root = temp_dir("kws-quiet");
        write_kws(&root, false);
        let d = load(&root, 0).unwrap();
        assert!(!d.train.y.contains(&SILENCE) && !d.test.y.contains(&SILENCE));
        assert_eq!(d.test.len(), 3);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn kws_bad_folders_and_files_name_the_path() {
        let root = temp_dir("kws-bad");
        write_kws(&root, true);
        let clip = root.join("no/spk0_nohash_0.wav");
        std::fs::write(&clip, wav::encode(&[1; 100], 8000, 1)).unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(
            e.contains("no/spk0_nohash_0.wav: sample rate: expected 16000 Hz, got 8000 Hz"),
            "{e}"
        );
        std::fs::write(&clip, b"RIFF....WAVEjunk").unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(
            e.contains("no/spk0_nohash_0.wav: WAV header: expected a RIFF"),
            "{e}"
        );
        std::fs::write(&clip, tone(100.0, 16000)).unwrap();

        std::fs::write(root.join(TEST_LIST), "yes/spk9_nohash_0.wav\n").unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(
            e.contains("testing_list.txt:1: expected a WAV clip under"),
            "{e}"
        );
        std::fs::write(root.join(TEST_LIST), "yes/spk1_nohash_0.wav\n").unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(e.contains("also in validation_list.txt"), "{e}");
        std::fs::remove_file(root.join(TEST_LIST)).unwrap();
        let e = load(&root, 0).unwrap_err().to_string();
        assert!(e.contains("testing_list.txt: file not found"), "{e}");

        let other = temp_dir("kws-empty");
        std::fs::create_dir_all(other.join("cat")).unwrap();
        std::fs::write(other.join(VAL_LIST), "").unwrap();
        std::fs::write(other.join(TEST_LIST), "").unwrap();
        let e = load(&other, 0).unwrap_err().to_string();
        assert!(e.contains("no keyword clips found"), "{e}");
        let e = load(&other.join("missing"), 0).unwrap_err().to_string();
        assert!(
            e.contains("missing: folder not found (expected a Google Speech Commands"),
            "{e}"
        );
        std::fs::remove_dir_all(root).unwrap();
        std::fs::remove_dir_all(other).unwrap();
    }

    #[test]
    fn kws_mini_shipped_copy_loads() {
        let d = load(&repo().join("data/kws-mini"), 1).unwrap();
        assert_eq!(d.train.len(), 8 * 10 + 8);
        assert_eq!(d.val.len(), 2 * 10 + 2);
        assert_eq!(d.test.len(), 2 * 10 + 2);
        let counts = d.test.class_counts();
        assert_eq!(counts, vec![2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0]);
        assert!(d.train.x.iter().all(|v| v.is_finite()));
    }
}
