//! Hardware-aware training (DESIGN.md 3.4) and the measured path of an architecture (DESIGN.md 4).
//!
//! [`train`] fits a [`Network`] on a task with optional Gaussian weight noise in every forward
//! pass (clean gradients, weight clipping after each step); [`drift`] programs the trained network
//! on a hardware profile and measures its test accuracy from seconds to a year after programming;
//! [`measure`] does both and returns a [`Measurement`](crate::measure::Measurement).

pub mod drift;
mod error;

pub use drift::*;
pub use error::TrainError;

use crate::data::{Dataset, TaskData};
use crate::error::Result;
use crate::hw::{HwProfile, PeripheryProduct, WeightClip};
use crate::nn::{Arch, Network, WeightNoise};
use crate::progress::{Observer, Stage};
use crate::rng::{SeededRng, derive_seed, seeded};
use burn::module::{Module, ModuleMapper, Param};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How long to train.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// A number of passes over the training set (deterministic for a seed).
    Epochs(usize),
    /// Wall-clock seconds (the cosine schedule follows elapsed time; not bit-reproducible).
    Seconds(f64),
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Budget::Epochs(e) => write!(f, "{e} epochs"),
            Budget::Seconds(s) => write!(f, "{s} s"),
        }
    }
}

/// The optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// SGD with momentum 0.9 and weight decay (the default).
    Sgd,
    /// Adam.
    Adam,
}

impl crate::choice::Choice for OptimizerKind {
    const ALL: &'static [Self] = &[OptimizerKind::Sgd, OptimizerKind::Adam];
    fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
        }
    }
}

/// Settings of one training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// How long to train. Default: 10 epochs.
    pub budget: Budget,
    /// Samples per step. Default: 64.
    pub batch_size: usize,
    /// Peak learning rate of the cosine schedule. Default: 0.05 (SGD), use ~2e-3 for Adam.
    pub lr: f64,
    /// Optimiser. Default: SGD with momentum.
    pub optimizer: OptimizerKind,
    /// L2 weight decay. Default: 5e-4.
    pub weight_decay: f64,
    /// Hardware-aware weight noise relative to each layer's max |W| (0 = digital training).
    pub hwa_noise: f64,
    /// Leading epochs trained without noise before the noisy ones (epoch budgets only).
    pub warmup_epochs: usize,
    /// Weight clipping after each noisy step.
    pub clip: WeightClip,
    /// Bound of the clipping (value or number of standard deviations).
    pub clip_value: f64,
    /// The profile whose periphery the training forward goes through (its `[training]`
    /// switches say which parts; DESIGN.md 3.4); `None`: exact products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_periphery: Option<HwProfile>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            budget: Budget::Epochs(10),
            batch_size: 64,
            lr: 0.05,
            optimizer: OptimizerKind::Sgd,
            weight_decay: 5e-4,
            hwa_noise: 0.0,
            warmup_epochs: 0,
            clip: WeightClip::Sigma,
            clip_value: 2.5,
            forward_periphery: None,
        }
    }
}

impl TrainConfig {
    /// Hardware-aware training with the profile's noise, clipping and (where its `[training]`
    /// switches say so) periphery.
    pub fn hardware_aware(profile: &HwProfile) -> Self {
        let t = &profile.training;
        let periphery =
            t.forward_noise_management || t.forward_dac || t.forward_out_noise || t.forward_adc;
        TrainConfig {
            hwa_noise: t.weight_noise,
            clip: t.clip,
            clip_value: t.clip_value,
            forward_periphery: periphery.then(|| profile.clone()),
            ..TrainConfig::default()
        }
    }
}

/// Statistics of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// Epoch number from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Training accuracy in percent (on the noisy forward when training with noise).
    pub train_acc: f64,
    /// Digital validation accuracy in percent.
    pub val_acc: f64,
    /// Seconds since the start of training.
    pub seconds: f64,
}

/// A trained network and how it got there.
#[derive(Debug)]
pub struct Trained {
    /// The network on the inference device (batch norm uses running statistics).
    pub net: Network,
    /// Per-epoch statistics.
    pub curve: Vec<EpochStats>,
    /// Digital test accuracy in percent.
    pub acc_fp: f64,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Training images processed per second.
    pub images_per_second: f64,
}

/// Turns `(x, y)` of a batch into tensors on `device`.
pub fn batch_tensors(
    x: Vec<f32>,
    y: &[u32],
    shape: [usize; 3],
    device: &Device,
) -> (Tensor<4>, Tensor<1, Int>) {
    let n = y.len();
    let [c, h, w] = shape;
    let x = Tensor::<4>::from_data(TensorData::new(x, [n, c, h, w]), device);
    let y: Vec<i64> = y.iter().map(|&v| i64::from(v)).collect();
    let y = Tensor::<1, Int>::from_data(TensorData::new(y, [n]), device);
    (x, y)
}

/// Digital accuracy (percent) of `net` on a data set, in batches of 256.
pub fn accuracy(net: &Network, data: &Dataset, device: &Device) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut correct = 0usize;
    let idx: Vec<usize> = (0..data.len()).collect();
    for chunk in idx.chunks(256) {
        let (x, y) = data.gather(chunk);
        let (x, _) = batch_tensors(x, &y, data.shape, device);
        let pred = net.forward(x).argmax(1).into_data();
        let pred: Vec<i64> = pred
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("argmax gives integers");
        correct += pred
            .iter()
            .zip(&y)
            .filter(|(p, t)| **p == i64::from(**t))
            .count();
    }
    100.0 * correct as f64 / data.len() as f64
}

/// Clips every weight matrix and kernel after an optimiser step.
struct Clipper {
    clip: WeightClip,
    value: f64,
}

impl ModuleMapper for Clipper {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if D < 2 || self.clip == WeightClip::None {
            return param;
        }
        let (clip, value) = (self.clip, self.value);
        param.map(|t| {
            let bound = match clip {
                WeightClip::Fixed => value,
                _ => {
                    let n = t.shape().num_elements() as f64;
                    let d = t.clone().detach();
                    let mean = d.clone().mean().into_scalar::<f64>();
                    let var = d
                        .sub_scalar(mean)
                        .powf_scalar(2.0)
                        .sum()
                        .into_scalar::<f64>()
                        / n.max(1.0);
                    value * var.sqrt()
                }
            };
            if !(bound > 0.0 && bound.is_finite()) {
                return t;
            }
            let rg = t.is_require_grad();
            let device = t.device();
            let clipped =
                Tensor::<D>::from_data(t.detach().clamp(-bound, bound).into_data(), &device);
            if rg { clipped.require_grad() } else { clipped }
        })
    }
}

/// The parts of a training step other than the network: optimiser, loss, hardware-aware noise
/// and weight clipping. [`train`] and the training benchmark step through it.
pub struct Stepper {
    optim: ModuleOptimizer,
    loss_fn: CrossEntropyLoss,
    noise: WeightNoise,
    clipper: Clipper,
    /// Whether the configuration trains with noise (weight noise or a forward periphery).
    pub hardware_aware: bool,
}

impl Stepper {
    /// The step machinery of `cfg` on the training device `device`, noise seeded from `seed`
    /// (the streams [`train`] uses).
    pub fn new(cfg: &TrainConfig, seed: u64, device: &Device) -> Self {
        let mut noise = WeightNoise::new(cfg.hwa_noise as f32, seeded(derive_seed(seed, 3)));
        if let Some(p) = cfg
            .forward_periphery
            .as_ref()
            .and_then(|p| PeripheryProduct::for_training(p, seeded(derive_seed(seed, 4))))
        {
            noise = noise.with_periphery(Box::new(p));
        }
        let decay =
            (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32));
        let optim = match cfg.optimizer {
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum(Some(MomentumConfig::new().with_momentum(0.9)))
                .with_weight_decay(decay)
                .init(),
            OptimizerKind::Adam => AdamConfig::new().with_weight_decay(decay).init(),
        };
        Stepper {
            optim,
            loss_fn: CrossEntropyLossConfig::new().init(device),
            hardware_aware: cfg.hwa_noise > 0.0 || noise.periphery.is_some(),
            noise,
            clipper: Clipper {
                clip: cfg.clip,
                value: cfg.clip_value,
            },
        }
    }

    /// The loss and the logits of a batch (with the noise when `noisy`).
    pub fn forward(
        &mut self,
        net: &Network,
        x: Tensor<4>,
        y: Tensor<1, Int>,
        noisy: bool,
    ) -> (Tensor<1>, Tensor<2>) {
        let logits = net.forward_noisy(x, if noisy { Some(&mut self.noise) } else { None });
        (self.loss_fn.forward(logits.clone(), y), logits)
    }

    /// The parameter gradients of `loss`.
    pub fn backward(net: &Network, loss: Tensor<1>) -> GradientsParams {
        GradientsParams::from_grads(loss.backward(), net)
    }

    /// The optimiser step at learning rate `lr`, then the weight clipping when `noisy`.
    pub fn update(
        &mut self,
        net: Network,
        grads: GradientsParams,
        lr: f64,
        noisy: bool,
    ) -> Network {
        let net = self.optim.step(lr, net, grads);
        if noisy {
            net.map(&mut self.clipper)
        } else {
            net
        }
    }
}

/// Trains `arch` on `data`. With an epoch budget the same seed gives the same weights.
///
/// A NaN or exploding loss ends training with [`TrainError::Diverged`] instead of a panic.
pub fn train(arch: &Arch, data: &TaskData, cfg: &TrainConfig, seed: u64) -> Result<Trained> {
    train_observed(arch, data, cfg, seed, &crate::progress::Silent)
}

/// [`train`], reporting each step to `observer` (stage `train <genome id>`, one step per batch;
/// the total is unknown for a time budget).
pub fn train_observed(
    arch: &Arch,
    data: &TaskData,
    cfg: &TrainConfig,
    seed: u64,
    observer: &dyn Observer,
) -> Result<Trained> {
    if data.train.is_empty() {
        return Err(TrainError::EmptySplit {
            source_name: data.source.clone(),
        }
        .into());
    }
    if cfg.batch_size == 0 {
        return Err(TrainError::Setting {
            flag: "--batch-size",
            expected: "an integer >= 1",
            got: "0".into(),
        }
        .into());
    }
    let compute = crate::device::compute_device();
    let device = compute.device()?;
    let train_device = crate::device::training_device(&device);
    let mut net = Network::from_arch_seeded(arch, &train_device, derive_seed(seed, 1));
    let mut rng: SeededRng = seeded(derive_seed(seed, 2));
    // The training periphery is the chip the genome's hardware genes describe.
    let cfg_for_arch;
    let cfg = match cfg.forward_periphery.as_ref() {
        Some(p) if arch.genome.hardware.is_some() => {
            cfg_for_arch = TrainConfig {
                forward_periphery: Some(p.for_arch(arch).into_owned()),
                ..cfg.clone()
            };
            &cfg_for_arch
        }
        _ => cfg,
    };
    let mut stepper = Stepper::new(cfg, seed, &train_device);
    let n = data.train.len();
    let steps_per_epoch = n.div_ceil(cfg.batch_size);
    let total_steps = match cfg.budget {
        Budget::Epochs(e) => (e * steps_per_epoch).max(1),
        Budget::Seconds(_) => usize::MAX,
    };
    let bar = Stage::begin(
        observer,
        format!("train {}", arch.genome.id()),
        matches!(cfg.budget, Budget::Epochs(_)).then_some(total_steps as u64),
        0,
    );
    let start = Instant::now();
    let mut curve = Vec::new();
    let mut step = 0usize;
    let mut images = 0usize;
    let mut epoch = 0usize;
    loop {
        let elapsed = start.elapsed().as_secs_f64();
        let done = match cfg.budget {
            Budget::Epochs(e) => epoch >= e,
            Budget::Seconds(s) => elapsed >= s && epoch > 0,
        };
        if done {
            break;
        }
        epoch += 1;
        let noisy = stepper.hardware_aware && epoch > cfg.warmup_epochs;
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            use rand::RngExt;
            order.swap(i, rng.random_range(0..=i));
        }
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for idx in order.chunks(cfg.batch_size) {
            let progress = match cfg.budget {
                Budget::Epochs(_) => step as f64 / total_steps as f64,
                Budget::Seconds(s) => (start.elapsed().as_secs_f64() / s).min(1.0),
            };
            if let Budget::Seconds(s) = cfg.budget
                && start.elapsed().as_secs_f64() >= s
            {
                break;
            }
            let lr = cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
            let (x, y) = data.train_batch(idx, &mut rng);
            let (x, y) = batch_tensors(x, &y, data.train.shape, &train_device);
            let (loss, logits) = stepper.forward(&net, x, y.clone(), noisy);
            let loss_value = loss.clone().into_scalar::<f64>();
            if !loss_value.is_finite() || loss_value > 1e4 {
                return Err(TrainError::Diverged {
                    id: arch.genome.id(),
                    loss: loss_value,
                    epoch,
                    step,
                }
                .into());
            }
            let pred: Vec<i64> = logits
                .argmax(1)
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .expect("ints");
            let truth: Vec<i64> = y
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .expect("ints");
            correct += pred.iter().zip(&truth).filter(|(p, t)| p == t).count();
            loss_sum += loss_value * idx.len() as f64;
            seen += idx.len();
            let grads = Stepper::backward(&net, loss);
            net = stepper.update(net, grads, lr, noisy);
            step += 1;
            images += idx.len();
            bar.advance(
                step as u64,
                &format!(
                    "epoch {epoch} loss {:.3} acc {:.1}%",
                    loss_sum / seen as f64,
                    100.0 * correct as f64 / seen as f64
                ),
            );
        }
        let valid = net.valid();
        let val_acc = accuracy(&valid, &data.val, &device);
        curve.push(EpochStats {
            epoch,
            loss: loss_sum / seen.max(1) as f64,
            train_acc: 100.0 * correct as f64 / seen.max(1) as f64,
            val_acc,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let train_seconds = start.elapsed().as_secs_f64();
    drop(bar);
    let net = net.valid();
    let acc_fp = accuracy(&net, &data.test, &device);
    // The analog evaluation and everything after it run on the CPU.
    let net = match compute {
        crate::device::ComputeDevice::Cpu => net,
        _ => net.to_device(&crate::device::default_device()),
    };
    Ok(Trained {
        net,
        curve,
        acc_fp,
        train_seconds,
        images_per_second: images as f64 / train_seconds.max(1e-9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::task::Task;

    fn small_arch() -> Arch {
        Arch::small_example(Task::Digits)
    }

    fn subset(data: &TaskData, n: usize) -> TaskData {
        let idx: Vec<usize> = (0..n.min(data.train.len())).collect();
        TaskData {
            train: data.train.subset(&idx),
            ..data.clone()
        }
    }

    #[test]
    fn training_through_the_periphery_learns_and_differs() {
        let data = crate::data::load(Task::Digits, None, 0).unwrap();
        let mut profile = HwProfile::default();
        profile.training.forward_noise_management = true;
        profile.training.forward_dac = true;
        profile.training.forward_out_noise = true;
        profile.training.forward_adc = true;
        let mut cfg = TrainConfig::hardware_aware(&profile);
        cfg.budget = Budget::Epochs(3);
        assert!(cfg.forward_periphery.is_some());
        let t = train(&small_arch(), &data, &cfg, 1).unwrap();
        assert!(t.acc_fp > 80.0, "test accuracy {}", t.acc_fp);
        // Without the periphery the same seed gives other weights.
        let plain = TrainConfig {
            forward_periphery: None,
            ..cfg.clone()
        };
        let u = train(&small_arch(), &data, &plain, 1).unwrap();
        assert_ne!(t.curve[0].loss, u.curve[0].loss);
        // Switches off: no periphery in the configuration.
        assert!(
            TrainConfig::hardware_aware(&HwProfile::default())
                .forward_periphery
                .is_none()
        );
    }

    #[test]
    fn an_ideal_training_periphery_is_the_exact_product() {
        use crate::nn::AnalogProduct;
        let mut profile = HwProfile::ideal();
        profile.training.forward_noise_management = true;
        profile.training.forward_adc = true;
        profile.tile.rows = 7;
        profile.tile.cols = 5;
        let mut p = PeripheryProduct::for_training(&profile, seeded(1)).unwrap();
        let (rows, cols, m) = (17, 11, 6);
        let mut rng = seeded(2);
        let w: Vec<f32> = (0..rows * cols)
            .map(|_| crate::rng::normal(&mut rng))
            .collect();
        let x: Vec<f32> = (0..rows * m)
            .map(|_| crate::rng::normal(&mut rng))
            .collect();
        let out = p.product(&w, rows, cols, &x, m);
        for c in 0..cols {
            for j in 0..m {
                let e: f32 = (0..rows).map(|r| w[r * cols + c] * x[r * m + j]).sum();
                assert!(
                    (out[c * m + j] - e).abs() < 1e-4,
                    "{} vs {e}",
                    out[c * m + j]
                );
            }
        }
        // With the default periphery the product is quantised and noisy.
        let mut d = HwProfile::default();
        d.training.forward_out_noise = true;
        d.training.forward_adc = true;
        let mut p = PeripheryProduct::for_training(&d, seeded(1)).unwrap();
        let noisy = p.product(&w, rows, cols, &x, m);
        assert_ne!(noisy, out);
        assert!(PeripheryProduct::for_training(&HwProfile::default(), seeded(1)).is_none());
    }

    #[test]
    fn small_network_learns_digits() {
        let data = crate::data::load(Task::Digits, None, 0).unwrap();
        let cfg = TrainConfig {
            budget: Budget::Epochs(4),
            ..TrainConfig::default()
        };
        let t = train(&small_arch(), &data, &cfg, 1).unwrap();
        assert_eq!(t.curve.len(), 4);
        assert!(t.acc_fp > 85.0, "digital test accuracy {}", t.acc_fp);
        assert!(t.curve[3].loss < t.curve[0].loss);
    }

    #[test]
    fn same_seed_same_weights_with_and_without_noise() {
        let data = subset(&crate::data::load(Task::Digits, None, 0).unwrap(), 128);
        for noise in [0.0, 0.05] {
            let cfg = TrainConfig {
                budget: Budget::Epochs(1),
                hwa_noise: noise,
                ..TrainConfig::default()
            };
            let w = |seed| {
                let t = train(&small_arch(), &data, &cfg, seed).unwrap();
                t.net.stem.conv.weight.val().into_data()
            };
            assert_eq!(w(3), w(3));
            assert_ne!(w(3), w(4));
        }
    }

    /// A GPU device takes burn's generic operations (the fast ones are flex-only): the same
    /// training steps through that path on the CPU give the same loss and weights, up to
    /// floating-point summation order.
    #[test]
    fn the_gpu_code_path_trains_like_the_fast_cpu_path() {
        let data = subset(&crate::data::load(Task::Digits, None, 0).unwrap(), 192);
        let cfg = TrainConfig {
            budget: Budget::Epochs(1),
            hwa_noise: 0.05,
            ..TrainConfig::default()
        };
        let fast = train(&small_arch(), &data, &cfg, 2).unwrap();
        let generic =
            crate::nn::fast::with_flex_ops(|| train(&small_arch(), &data, &cfg, 2)).unwrap();
        let (a, b) = (fast.curve[0].loss, generic.curve[0].loss);
        assert!((a - b).abs() < 1e-3 * a.abs().max(1.0), "{a} vs {b}");
        let w = |t: &Trained| {
            t.net
                .stem
                .conv
                .weight
                .val()
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap()
        };
        for (x, y) in w(&fast).iter().zip(&w(&generic)) {
            assert!((x - y).abs() < 1e-3, "{x} vs {y}");
        }
    }

    #[test]
    fn diverging_loss_is_an_error_not_a_panic() {
        let data = subset(&crate::data::load(Task::Digits, None, 0).unwrap(), 256);
        let cfg = TrainConfig {
            budget: Budget::Epochs(3),
            lr: 1e9,
            ..TrainConfig::default()
        };
        match train(&small_arch(), &data, &cfg, 1) {
            Err(Error::Train(e)) if matches!(*e, TrainError::Diverged { .. }) => {
                assert!(e.to_string().contains("diverged"), "{e}")
            }
            other => panic!(
                "expected a training error, got {:?}",
                other.map(|t| t.acc_fp)
            ),
        }
    }

    #[test]
    fn clipping_bounds_weights() {
        let data = subset(&crate::data::load(Task::Digits, None, 0).unwrap(), 128);
        let cfg = TrainConfig {
            budget: Budget::Epochs(1),
            hwa_noise: 0.05,
            clip: WeightClip::Fixed,
            clip_value: 0.05,
            ..TrainConfig::default()
        };
        let t = train(&small_arch(), &data, &cfg, 1).unwrap();
        let max = t
            .net
            .stem
            .conv
            .weight
            .val()
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(max <= 0.05 + 1e-6, "{max}");
    }
}
