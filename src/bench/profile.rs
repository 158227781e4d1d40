//! Where a ResNet-20 training step spends its time: the step split into forward, backward and
//! optimizer, and each convolution shape's forward, input gradient and weight gradient, plus
//! batch norm + ReLU, with burn's own flex operations and with this crate's fast operations
//! ([`crate::nn::fast`]) measured interleaved in the same run.

use super::median;
use crate::hw::HwProfile;
use crate::nn::fast::{batch_norm, conv2d, with_flex_ops};
use crate::nn::{Arch, LayerKind, Network, Reference};
use crate::rng::{normal, seeded};
use crate::task::Task;
use crate::train::{Stepper, TrainConfig};
use burn::nn::BatchNormConfig;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use std::time::Instant;

fn random<const D: usize>(dims: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
    let mut rng = seeded(seed);
    let n: usize = dims.iter().product();
    let v: Vec<f32> = (0..n).map(|_| normal(&mut rng)).collect();
    Tensor::from_data(TensorData::new(v, dims), device)
}

/// Milliseconds of `f`, median of `reps` (after one untimed call).
fn ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

/// Forward, input-gradient and weight-gradient milliseconds of one convolution shape.
fn conv_times([n, c, h, w, o, k, s, p]: [usize; 8], reps: usize, need_dx: bool) -> [f64; 3] {
    let d = Device::flex().autodiff();
    let x = random([n, c, h, w], 1, &d);
    let wt = random([o, c, k, k], 2, &d);
    let opt = ConvOptions::new([s, s], [p, p], [1, 1], 1);
    let fwd = ms(reps, || {
        let _ = conv2d(x.clone(), wt.clone().require_grad(), opt.clone());
    });
    let bwd_w = ms(reps, || {
        let y = conv2d(x.clone(), wt.clone().require_grad(), opt.clone());
        let _ = y.sum().backward();
    }) - fwd;
    let bwd_x = if need_dx {
        ms(reps, || {
            let y = conv2d(x.clone().require_grad(), wt.clone(), opt.clone());
            let _ = y.sum().backward();
        }) - fwd
    } else {
        0.0
    };
    [fwd, bwd_x.max(0.0), bwd_w.max(0.0)]
}

/// Forward and backward milliseconds of batch norm (training) + ReLU on `[n, c, h, w]`
/// through [`crate::nn::fast::batch_norm`] (fused, unless under `with_flex_ops`).
fn bn_relu_times(dims: [usize; 4], reps: usize) -> [f64; 2] {
    let d = Device::flex().autodiff();
    let bn = BatchNormConfig::new(dims[1]).init(&d);
    let x = random(dims, 3, &d);
    let fwd = ms(reps, || {
        let _ = batch_norm(&bn, x.clone().require_grad(), None, true);
    });
    let all = ms(reps, || {
        let y = batch_norm(&bn, x.clone().require_grad(), None, true);
        let _ = y.sum().backward();
    });
    [fwd, (all - fwd).max(0.0)]
}

/// Forward (to the loss), backward and optimizer (+ clipping) milliseconds of one ResNet-20
/// training step, digital or hardware-aware, medians of `reps` steps.
fn step_times(hwa: bool, batch: usize, reps: usize) -> [f64; 3] {
    let d = Device::flex().autodiff();
    let arch = Arch::for_task(Reference::Resnet20.genome(), Task::Cifar10);
    let cfg = if hwa {
        TrainConfig::hardware_aware(&HwProfile::default())
    } else {
        TrainConfig::default()
    };
    let mut net = Network::from_arch_seeded(&arch, &d, 1);
    let mut stepper = Stepper::new(&cfg, 1, &d);
    let (x, y) = super::backends::random_batch(batch, &d, 2);
    let mut t = [Vec::new(), Vec::new(), Vec::new()];
    for rep in 0..=reps {
        let t0 = Instant::now();
        let (loss, _) = stepper.forward(&net, x.clone(), y.clone(), hwa);
        let _ = loss.clone().into_scalar::<f32>();
        let t1 = Instant::now();
        let grads = Stepper::backward(&net, loss);
        let t2 = Instant::now();
        net = stepper.update(net, grads, 0.01, hwa);
        let _ = net.stem.conv.weight.val().into_data();
        let t3 = Instant::now();
        if rep > 0 {
            t[0].push((t1 - t0).as_secs_f64() * 1e3);
            t[1].push((t2 - t1).as_secs_f64() * 1e3);
            t[2].push((t3 - t2).as_secs_f64() * 1e3);
        }
    }
    t.map(median)
}

/// The per-operation profile of ResNet-20 (3x32x32) training at `batch`, on the current rayon
/// pool, flex's operations and the fast ones interleaved, medians of `reps`.
pub fn profile_report(batch: usize, reps: usize) -> String {
    let arch = Arch::for_task(Reference::Resnet20.genome(), Task::Cifar10);
    let plan = arch.plan();
    // Distinct conv shapes and how often each occurs.
    let mut shapes: Vec<([usize; 8], usize, bool)> = Vec::new();
    for (i, l) in plan
        .layers()
        .into_iter()
        .filter(|l| l.kind == LayerKind::Conv)
        .enumerate()
    {
        let key = [
            batch, l.c_in, l.in_hw[0], l.in_hw[1], l.c_out, l.k, l.stride, l.padding,
        ];
        match shapes.iter_mut().find(|(k, _, _)| *k == key) {
            Some(s) => s.1 += 1,
            None => shapes.push((key, 1, i > 0)),
        }
    }
    let mut out =
        String::from("phase milliseconds per step   forward  backward  optimizer     total\n");
    for hwa in [false, true] {
        for flex in [true, false] {
            let t = if flex {
                with_flex_ops(|| step_times(hwa, batch, reps))
            } else {
                step_times(hwa, batch, reps)
            };
            out += &format!(
                "{:<29} {:>8.1} {:>9.1} {:>10.1} {:>9.1}\n",
                format!(
                    "{} {}",
                    if hwa { "hardware-aware" } else { "digital" },
                    if flex { "flex" } else { "fast" }
                ),
                t[0],
                t[1],
                t[2],
                t.iter().sum::<f64>()
            );
        }
    }
    out += &format!(
        "ResNet-20 training step, batch {batch}, {} threads: milliseconds per call (median of {reps}), flex = burn's own operations, fast = analognas::nn::fast\n",
        rayon::current_num_threads()
    );
    out += &format!(
        "{:<34} {:>5} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>9} {:>9}\n",
        "conv n,c,h,w -> o, k, stride, pad",
        "count",
        "flex fwd",
        "bwd-x",
        "bwd-w",
        "fast fwd",
        "bwd-x",
        "bwd-w",
        "flex/step",
        "fast/step"
    );
    let (mut flex_total, mut fast_total) = (0.0, 0.0);
    for (key, count, need_dx) in &shapes {
        let flex = with_flex_ops(|| conv_times(*key, reps, *need_dx));
        let fast = conv_times(*key, reps, *need_dx);
        let (fl, fa) = (
            flex.iter().sum::<f64>() * *count as f64,
            fast.iter().sum::<f64>() * *count as f64,
        );
        flex_total += fl;
        fast_total += fa;
        let [n, c, h, w, o, k, s, p] = *key;
        out += &format!(
            "{:<34} {:>5} | {:>8.2} {:>8.2} {:>8.2} | {:>8.2} {:>8.2} {:>8.2} | {:>9.1} {:>9.1}\n",
            format!("{n},{c},{h},{w} -> {o}, {k}x{k}, s{s}, p{p}"),
            count,
            flex[0],
            flex[1],
            flex[2],
            fast[0],
            fast[1],
            fast[2],
            fl,
            fa
        );
    }
    out += &format!(
        "{:<34} {:>5} | {:>62} | {:>9.1} {:>9.1}\n",
        "all convolutions", "", "", flex_total, fast_total
    );
    // Batch norm + ReLU on each conv output shape.
    let mut bn_total = [[0.0, 0.0]; 2];
    let mut bn_rows = String::new();
    let mut bn_shapes: Vec<([usize; 4], usize)> = Vec::new();
    for l in plan.layers() {
        if l.kind != LayerKind::Conv {
            continue;
        }
        let key = [batch, l.c_out, l.out_hw[0], l.out_hw[1]];
        match bn_shapes.iter_mut().find(|(k, _)| *k == key) {
            Some(s) => s.1 += 1,
            None => bn_shapes.push((key, 1)),
        }
    }
    for (key, count) in &bn_shapes {
        let flex = with_flex_ops(|| bn_relu_times(*key, reps));
        let fast = bn_relu_times(*key, reps);
        for (i, t) in [flex, fast].iter().enumerate() {
            bn_total[i][0] += t[0] * *count as f64;
            bn_total[i][1] += t[1] * *count as f64;
        }
        bn_rows += &format!(
            "  batch norm + ReLU {:?} x{count}: flex forward {:.2} ms, backward {:.2} ms | fast forward {:.2} ms, backward {:.2} ms\n",
            key, flex[0], flex[1], fast[0], fast[1]
        );
    }
    out += &bn_rows;
    out += &format!(
        "all batch norm + ReLU per step: flex forward {:.1} ms, backward {:.1} ms | fast forward {:.1} ms, backward {:.1} ms\n",
        bn_total[0][0], bn_total[0][1], bn_total[1][0], bn_total[1][1]
    );
    out
}
