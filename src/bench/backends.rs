//! Benchmarks of the burn backends (training and inference throughput of ResNet-20).

use crate::device::Backend;
use crate::error::Result;
use crate::nn::{Arch, Network, Reference};
use crate::rng::{normal, seeded};
use crate::task::Task;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use std::time::Instant;

/// Throughput of one backend.
#[derive(Clone, Debug)]
pub struct BackendThroughput {
    /// The backend.
    pub backend: Backend,
    /// Training images per second (SGD with momentum, forward + backward + step).
    pub train_img_s: f64,
    /// Inference images per second.
    pub infer_img_s: f64,
}

pub(crate) fn random_batch(n: usize, device: &Device, seed: u64) -> (Tensor<4>, Tensor<1, Int>) {
    let mut rng = seeded(seed);
    let x: Vec<f32> = (0..n * 3 * 32 * 32).map(|_| normal(&mut rng)).collect();
    let y: Vec<i64> = (0..n as i64).map(|i| i % 10).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 3, 32, 32]), device),
        Tensor::from_data(TensorData::new(y, [n]), device),
    )
}

/// Measures ResNet-20 training (batch `train_batch`, `steps` steps after one warm-up step) and
/// inference (batch `infer_batch`, `steps` passes) on `backend`.
pub fn measure_backend(
    backend: Backend,
    train_batch: usize,
    infer_batch: usize,
    steps: usize,
) -> Result<BackendThroughput> {
    let device = backend.device()?;
    let arch = Arch::for_task(Reference::Resnet20.genome(), Task::Cifar10);
    let ad = device.clone().autodiff();
    let mut net = Network::from_arch_seeded(&arch, &ad, 1);
    let mut optim = SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_momentum(0.9)))
        .init();
    let loss_fn = CrossEntropyLossConfig::new().init(&ad);
    let (x, y) = random_batch(train_batch, &ad, 2);
    let mut step = |net: Network| {
        let loss = loss_fn.forward(net.forward(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        optim.step(0.01, net, grads)
    };
    net = step(net);
    let t = Instant::now();
    for _ in 0..steps {
        net = step(net);
    }
    let _ = net.stem.conv.weight.val().into_data();
    let train_img_s = (steps * train_batch) as f64 / t.elapsed().as_secs_f64();
    let valid = net.valid();
    let (xi, _) = random_batch(infer_batch, &device, 3);
    let _ = valid.forward(xi.clone()).into_data();
    let t = Instant::now();
    for _ in 0..steps {
        let _ = valid.forward(xi.clone()).into_data();
    }
    let infer_img_s = (steps * infer_batch) as f64 / t.elapsed().as_secs_f64();
    Ok(BackendThroughput {
        backend,
        train_img_s,
        infer_img_s,
    })
}

/// Runs the backend benchmark on every backend this binary has and returns the printed report.
pub fn backends_report(steps: usize) -> Result<String> {
    let mut backends = vec![Backend::Flex];
    if cfg!(feature = "ndarray") {
        backends.push(Backend::Ndarray);
    }
    let results = backends
        .into_iter()
        .map(|b| measure_backend(b, 64, 256, steps))
        .collect::<Result<Vec<_>>>()?;
    let mut out = String::from(
        "ResNet-20 on random 3x32x32 batches (train batch 64 SGD+momentum, inference batch 256)\n",
    );
    out += &format!(
        "{:<10} {:>12} {:>14}\n",
        "backend", "train img/s", "infer img/s"
    );
    for r in &results {
        out += &format!(
            "{:<10} {:>12.1} {:>14.1}\n",
            format!("{:?}", r.backend).to_lowercase(),
            r.train_img_s,
            r.infer_img_s
        );
    }
    let reference = &results[0];
    for r in &results[1..] {
        out += &format!(
            "ratio flex / {}: train {:.1}x, inference {:.1}x\n",
            format!("{:?}", r.backend).to_lowercase(),
            reference.train_img_s / r.train_img_s,
            reference.infer_img_s / r.infer_img_s
        );
    }
    if results.len() == 1 {
        out += "(ndarray not compiled in: build with --features ndarray to compare)\n";
    }
    Ok(out)
}

/// Cost of one measured candidate on `digits`: training throughput (digital and hardware-aware)
/// and the wall time of one whole hardware-aware train + drift evaluation of a small network.
pub fn train_report(epochs: usize, reps: usize) -> Result<String> {
    use crate::train::{Budget, MeasureConfig, TrainConfig, measure, train};
    let data = crate::data::load(Task::Digits, None, 0)?;
    let arch = Arch::small_example(Task::Digits);
    let profile = crate::hw::HwProfile::default();
    let digital = TrainConfig {
        budget: Budget::Epochs(epochs),
        ..TrainConfig::default()
    };
    let hwa = TrainConfig {
        budget: Budget::Epochs(epochs),
        ..TrainConfig::hardware_aware(&profile)
    };
    train(
        &arch,
        &data,
        &TrainConfig {
            budget: Budget::Epochs(1),
            ..digital.clone()
        },
        0,
    )?;
    let d = train(&arch, &data, &digital, 1)?;
    let h = train(&arch, &data, &hwa, 1)?;
    let t = Instant::now();
    let m = measure(
        &arch,
        &data,
        &profile,
        &MeasureConfig {
            train: hwa.clone(),
            reps,
        },
        1,
    )?;
    let whole = t.elapsed().as_secs_f64();
    let mut out = format!(
        "digits, {} ({} params, {} tiles), {epochs} epochs, batch {}\n",
        arch.genome.summary(),
        m.params,
        m.tiles,
        hwa.batch_size
    );
    out += &format!(
        "digital training        {:>8.0} img/s  test {:.2}%\n",
        d.images_per_second, d.acc_fp
    );
    out += &format!(
        "hardware-aware training {:>8.0} img/s  test {:.2}%  (ratio to digital {:.2})\n",
        h.images_per_second,
        h.acc_fp,
        h.images_per_second / d.images_per_second
    );
    out += &format!(
        "one measured candidate (HWA training + drift evaluation at 5 times x {reps} reps): {whole:.2} s (training {:.2} s), acc 1d {:.2}%, AVM {:.2}\n",
        m.train_seconds, m.acc_1d, m.avm
    );
    Ok(out)
}
