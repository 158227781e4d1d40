//! What a network's inputs and outputs mean, as `export.json` states them for users outside
//! analognas: the normalisation the data loaders apply and the class names in logit order.

use crate::data::{self, TaskData};
use crate::task::Task;
use serde::{Deserialize, Serialize};

/// How raw inputs become the network's inputs: `x = (raw * scale - mean[c]) / std[c]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// What the loader does, in words.
    pub description: String,
    /// Layout of one batch.
    pub layout: String,
    /// Factor applied to the raw values first (1/255 for 8-bit pixels), when there is one.
    pub scale: Option<f64>,
    /// Per-channel mean subtracted after scaling, when fixed.
    pub mean: Option<Vec<f64>>,
    /// Per-channel standard deviation divided by, when fixed.
    pub std: Option<Vec<f64>>,
}

fn fixed(description: &str, scale: f64, mean: &[f32], std: &[f32]) -> Normalisation {
    Normalisation {
        description: description.to_string(),
        layout: "NCHW float32".into(),
        scale: Some(scale),
        mean: Some(mean.iter().map(|&v| v as f64).collect()),
        std: Some(std.iter().map(|&v| v as f64).collect()),
    }
}

/// The normalisation of `task`'s loader; `data` supplies statistics computed on the training
/// split where the loader computes them.
pub fn normalisation(task: Task, data: &TaskData) -> Normalisation {
    match task {
        Task::Digits => {
            // Pixels 0..16 scaled by 1/16, then standardised with the training split's mean and
            // std: raw 0 and raw 16 both occur in the split, so its extremes give them back.
            let (lo, hi) = data
                .train
                .x
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v as f64), hi.max(v as f64))
                });
            let (mean, std) = if hi > lo {
                let std = 1.0 / (hi - lo);
                (-lo * std, std)
            } else {
                (0.0, 1.0)
            };
            Normalisation {
                description: "smartcore digits: pixels 0..16 divided by 16, then standardised \
                              with the mean and std of the training split (one value for all \
                              pixels)"
                    .into(),
                layout: "NCHW float32".into(),
                scale: Some(1.0 / 16.0),
                mean: Some(vec![mean]),
                std: Some(vec![std]),
            }
        }
        Task::Mnist => {
            let (m, s) = data::mnist::MEAN_STD;
            fixed(
                "MNIST: pixels / 255, then (x - mean) / std",
                1.0 / 255.0,
                &[m],
                &[s],
            )
        }
        Task::Cifar10 => fixed(
            "CIFAR-10: pixels / 255, then per channel (x - mean) / std",
            1.0 / 255.0,
            &data::cifar::MEAN,
            &data::cifar::STD,
        ),
        Task::Vww => fixed(
            "Visual Wake Words: image resized to 96x96, pixels / 255, then per channel \
             (x - mean) / std (ImageNet statistics)",
            1.0 / 255.0,
            &data::vww::MEAN,
            &data::vww::STD,
        ),
        Task::Kws => Normalisation {
            description: "Speech Commands: 1 s at 16 kHz, 49 frames x 10 MFCCs (analognas's \
                          MFCC front end, src/data/mfcc.rs), each coefficient standardised with \
                          the mean and std of the training split"
                .into(),
            layout: "NCHW float32 (C = 1, H = 49 frames, W = 10 coefficients)".into(),
            scale: None,
            mean: None,
            std: None,
        },
    }
}

/// Class names in logit order.
pub fn class_names(task: Task) -> Vec<String> {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    match task {
        Task::Digits | Task::Mnist => (0..10).map(|d| d.to_string()).collect(),
        Task::Cifar10 => owned(&[
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ]),
        Task::Kws => {
            let mut v: Vec<String> = owned(&data::kws::KEYWORDS);
            v.push("_silence_".into());
            v.push("_unknown_".into());
            v
        }
        Task::Vww => owned(&data::vww::CLASS_DIRS),
    }
}
