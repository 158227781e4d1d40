//! Using a found network in your own program: load a model directory written by
//! `analognas train` or `analognas export`, run it digitally with burn, or program it onto a
//! simulated PCM chip and run it at any time after programming.
//!
//! ```no_run
//! use analognas::model::TrainedModel;
//! use analognas::hw::HwProfile;
//!
//! let device = analognas::device::default_device();
//! let model = TrainedModel::load("results/example/export".as_ref(), &device)?;
//! let x = vec![0.0f32; 4 * 64]; // 4 digits of 1x8x8
//! let digital = model.digital_logits(&x, 4);
//! let profile = HwProfile::load("hw_profiles/pcm_aihwkit.toml")?;
//! let chip = model.program(&profile, 7);
//! let after_a_day = chip.read(86_400.0, 8).forward(&x, 4, 9);
//! # Ok::<(), analognas::Error>(())
//! ```

use crate::error::Result;
use crate::hw::{AnalogNetwork, HwProfile, NetworkWeights};
use crate::nn::{Arch, Network};
use crate::train::{METRICS_FILE, TrainMetrics, load_model_dir, save_model_dir};
use burn::tensor::{Device, Tensor, TensorData};
use std::path::Path;

/// A network with its architecture and trained weights, ready for inference.
#[derive(Debug)]
pub struct TrainedModel {
    /// The architecture (genome, input shape, classes).
    pub arch: Arch,
    /// The burn module (inference mode); train it further, save it, or call `forward`.
    pub net: Network,
    /// Training metrics, when the directory has them.
    pub metrics: Option<TrainMetrics>,
}

impl TrainedModel {
    /// Loads a model directory (`arch.json`, `model.bpk`, optional `metrics.json`) onto `device`.
    ///
    /// A missing or corrupt file gives an error naming it.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (arch, net) = load_model_dir(dir, device)?;
        let metrics_path = dir.join(METRICS_FILE);
        let metrics = if metrics_path.is_file() {
            let text = crate::error::read_to_string(&metrics_path)?;
            Some(serde_json::from_str(&text).map_err(|e| {
                crate::Error::input(format!(
                    "{}: expected training metrics JSON: {e}",
                    metrics_path.display()
                ))
            })?)
        } else {
            None
        };
        Ok(TrainedModel { arch, net, metrics })
    }

    /// Writes the model as a directory that [`TrainedModel::load`] reads back.
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model_dir(dir, &self.arch, &self.net, self.metrics.as_ref())
    }

    /// Digital logits `[batch, classes]` (row-major) of `batch` inputs laid out `[batch, c, h, w]`.
    pub fn digital_logits(&self, x: &[f32], batch: usize) -> Vec<f32> {
        let [c, h, w] = self.arch.input;
        let device = self.net.head.weight.val().device();
        let x = Tensor::<4>::from_data(TensorData::new(x.to_vec(), [batch, c, h, w]), &device);
        self.net
            .forward(x)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("float logits")
    }

    /// Programs the network onto a simulated chip of `profile` (programming noise and drift
    /// exponents drawn from `seed`); read it at any time with [`AnalogNetwork::read`].
    pub fn program(&self, profile: &HwProfile, seed: u64) -> AnalogNetwork {
        AnalogNetwork::program(
            &NetworkWeights::from_network(&self.net, &self.arch),
            profile,
            seed,
        )
    }
}
