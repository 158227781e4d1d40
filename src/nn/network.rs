//! The burn network built from an architecture (DESIGN.md 2.2).

use super::arch::{Arch, LayerShape, NetworkPlan};
use crate::rng::{SeededRng, normal};
use burn::module::{Module, ModuleMapper, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};

/// The forward of an analog layer through a tile's periphery during hardware-aware training
/// (noise management, DAC, output noise, ADC; implemented by [`crate::hw::PeripheryProduct`]).
pub trait AnalogProduct: std::fmt::Debug + Send {
    /// The `cols x m` outputs (row-major) of the `rows x cols` matrix `w` (row-major) applied to
    /// the `m` input vectors `x` (`rows x m`, one vector per column).
    fn product(&mut self, w: &[f32], rows: usize, cols: usize, x: &[f32], m: usize) -> Vec<f32>;

    /// Whether grouped (depthwise) convolutions skip the periphery (they run digitally).
    fn digital_depthwise(&self) -> bool;
}

/// The noise of hardware-aware training (DESIGN.md 3.4): Gaussian weight noise
/// `W + rel_std * max|W| * N(0,1)` on every analog layer in every forward pass (the scale is
/// detached so gradients reach the clean weights), and optionally the tile periphery: the
/// layer's output is replaced by the periphery's output on the noisy weights, with
/// straight-through gradients (the backward pass is the exact product's, as in AIHWKit, whose
/// inference tiles have a perfect backward).
#[derive(Debug)]
pub struct WeightNoise {
    /// Standard deviation relative to each layer's max |W|.
    pub rel_std: f32,
    /// Source of the noise draws.
    pub rng: SeededRng,
    /// The periphery of the forward pass (`None`: the exact product).
    pub periphery: Option<Box<dyn AnalogProduct>>,
}

impl WeightNoise {
    /// Noise of `rel_std` drawn from `rng`.
    pub fn new(rel_std: f32, rng: SeededRng) -> Self {
        WeightNoise {
            rel_std,
            rng,
            periphery: None,
        }
    }

    /// The same noise with the forward pass through `periphery`.
    #[must_use]
    pub fn with_periphery(mut self, periphery: Box<dyn AnalogProduct>) -> Self {
        self.periphery = Some(periphery);
        self
    }

    /// The output `y` (the exact product's, `[n, c_out, oh, ow]`) replaced by the periphery's
    /// output, gradients straight through: `y + (periphery(x, w) - y).detach()`.
    fn conv_through_periphery(
        &mut self,
        y: Tensor<4>,
        x: &Tensor<4>,
        w: &Tensor<4>,
        stride: usize,
        padding: usize,
    ) -> Tensor<4> {
        let Some(p) = self.periphery.as_mut() else {
            return y;
        };
        let [n, c_in, h, wd] = x.dims();
        let [c_out, cin_g, k, _] = w.dims();
        let groups = c_in / cin_g;
        if groups > 1 && p.digital_depthwise() {
            return y;
        }
        let [_, _, oh, ow] = y.dims();
        let xs = x
            .clone()
            .detach()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32");
        let ws = w
            .clone()
            .detach()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32");
        let rows = c_in * k * k;
        let m = n * oh * ow;
        let patches = im2col(&xs, [n, c_in, h, wd], k, stride, padding, [oh, ow]);
        let matrix = conv_matrix(&ws, c_out, cin_g, groups, k);
        let out = p.product(&matrix, rows, c_out, &patches, m);
        // [c_out][n][oh*ow] -> [n][c_out][oh*ow]
        let mut v = vec![0f32; out.len()];
        let hw = oh * ow;
        for c in 0..c_out {
            for img in 0..n {
                v[(img * c_out + c) * hw..(img * c_out + c + 1) * hw]
                    .copy_from_slice(&out[(c * n + img) * hw..(c * n + img + 1) * hw]);
            }
        }
        let noisy = Tensor::<4>::from_data(TensorData::new(v, [n, c_out, oh, ow]), &y.device());
        let delta = noisy - y.clone().detach();
        y + delta
    }

    /// [`WeightNoise::conv_through_periphery`] for the linear head: `x` `[n, in]`, `w` `[in, out]`.
    fn linear_through_periphery(
        &mut self,
        y: Tensor<2>,
        x: &Tensor<2>,
        w: &Tensor<2>,
    ) -> Tensor<2> {
        let Some(p) = self.periphery.as_mut() else {
            return y;
        };
        let [n, rows] = x.dims();
        let [_, cols] = w.dims();
        let xs = x
            .clone()
            .detach()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32");
        let ws = w
            .clone()
            .detach()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32");
        let mut xt = vec![0f32; rows * n];
        for j in 0..n {
            for r in 0..rows {
                xt[r * n + j] = xs[j * rows + r];
            }
        }
        let out = p.product(&ws, rows, cols, &xt, n);
        let mut v = vec![0f32; n * cols];
        for c in 0..cols {
            for j in 0..n {
                v[j * cols + c] = out[c * n + j];
            }
        }
        let noisy = Tensor::<2>::from_data(TensorData::new(v, [n, cols]), &y.device());
        let delta = noisy - y.clone().detach();
        y + delta
    }

    fn apply<const D: usize>(&mut self, w: Tensor<D>) -> Tensor<D> {
        if self.rel_std == 0.0 {
            return w;
        }
        let dims = w.dims();
        let n: usize = dims.iter().product();
        let z: Vec<f32> = (0..n).map(|_| normal(&mut self.rng)).collect();
        let z = Tensor::<D>::from_data(TensorData::new(z, dims), &w.device());
        let scale = w.clone().abs().max().detach().mul_scalar(self.rel_std);
        let scale = scale.reshape([1; D]);
        w + z * scale
    }
}

fn perturb<const D: usize>(w: Tensor<D>, noise: Option<&mut WeightNoise>) -> Tensor<D> {
    match noise {
        Some(n) => n.apply(w),
        None => w,
    }
}

/// The im2col patches of `x` (`[n, c, h, w]`), `(c * k * k) x (n * oh * ow)` row-major, rows in
/// `(c, ky, kx)` order (the order of [`conv_matrix`] and of the tiles' matrices), zero padding.
fn im2col(
    x: &[f32],
    [n, c, h, w]: [usize; 4],
    k: usize,
    stride: usize,
    pad: usize,
    [oh, ow]: [usize; 2],
) -> Vec<f32> {
    let m = n * oh * ow;
    let mut out = vec![0f32; c * k * k * m];
    for ch in 0..c {
        for ky in 0..k {
            for kx in 0..k {
                let row = &mut out[((ch * k + ky) * k + kx) * m..][..m];
                for img in 0..n {
                    let src = &x[(img * c + ch) * h * w..][..h * w];
                    for oy in 0..oh {
                        let iy = (oy * stride + ky) as isize - pad as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for ox in 0..ow {
                            let ix = (ox * stride + kx) as isize - pad as isize;
                            if ix >= 0 && ix < w as isize {
                                row[(img * oh + oy) * ow + ox] = src[iy as usize * w + ix as usize];
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// The `(c_in * k * k) x c_out` matrix of a conv kernel `[c_out, c_in / groups, k, k]`
/// (block-diagonal for a grouped conv), as on the tiles.
fn conv_matrix(w: &[f32], c_out: usize, cin_g: usize, groups: usize, k: usize) -> Vec<f32> {
    let kk = k * k;
    let cout_g = c_out / groups;
    let rows = cin_g * groups * kk;
    let mut m = vec![0f32; rows * c_out];
    for o in 0..c_out {
        let g = o / cout_g;
        for ci in 0..cin_g {
            for j in 0..kk {
                m[((g * cin_g + ci) * kk + j) * c_out + o] = w[(o * cin_g + ci) * kk + j];
            }
        }
    }
    m
}

/// Re-draws every weight matrix and kernel from a seeded RNG (biases and BN stay as built).
struct SeededInit {
    rng: SeededRng,
}

impl ModuleMapper for SeededInit {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if D < 2 {
            return param;
        }
        let rng = &mut self.rng;
        param.map(|t| {
            use rand::RngExt;
            let dims = t.dims();
            let (fan_in, bound_of) = if D == 2 {
                (dims[0], 1.0f32)
            } else {
                (dims[1..].iter().product::<usize>(), 6.0f32.sqrt())
            };
            let bound = bound_of / (fan_in.max(1) as f32).sqrt();
            let n: usize = dims.iter().product();
            let v: Vec<f32> = (0..n)
                .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * bound)
                .collect();
            let rg = t.is_require_grad();
            let out = Tensor::<D>::from_data(TensorData::new(v, dims), &t.device());
            if rg { out.require_grad() } else { out }
        })
    }
}

/// A bias-free convolution followed by batch norm.
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution (its weight is what goes on tiles).
    pub conv: Conv2d,
    /// Batch norm after the convolution (digital).
    pub bn: BatchNorm,
}

impl ConvBn {
    /// A conv+BN of the given layer shape.
    pub fn new(shape: &LayerShape, device: &Device) -> Self {
        let p = shape.padding;
        let conv = Conv2dConfig::new([shape.c_in, shape.c_out], [shape.k, shape.k])
            .with_stride([shape.stride, shape.stride])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_groups(shape.groups)
            .with_bias(false)
            .init(device);
        ConvBn {
            conv,
            bn: BatchNormConfig::new(shape.c_out).init(device),
        }
    }

    /// Conv then BN, with optional weight noise on the conv.
    ///
    /// # Shapes
    /// - input `[batch, c_in, h, w]`, output `[batch, c_out, h_out, w_out]`
    pub fn forward(&self, x: Tensor<4>, noise: Option<&mut WeightNoise>) -> Tensor<4> {
        self.forward_act(x, noise, None, false)
    }

    /// `act(BN(conv(x)) + residual)`, `act` the ReLU when `relu`: one fused operation in
    /// training on the CPU ([`super::fast::batch_norm`]).
    ///
    /// # Shapes
    /// - input `[batch, c_in, h, w]`, residual and output `[batch, c_out, h_out, w_out]`
    pub fn forward_act(
        &self,
        x: Tensor<4>,
        noise: Option<&mut WeightNoise>,
        residual: Option<Tensor<4>>,
        relu: bool,
    ) -> Tensor<4> {
        let y = self.conv_forward(x, noise);
        self.bn_forward(y, residual, relu)
    }

    /// The batch norm (with residual and ReLU) of [`ConvBn::forward_act`] on a conv output.
    pub fn bn_forward(&self, y: Tensor<4>, residual: Option<Tensor<4>>, relu: bool) -> Tensor<4> {
        super::fast::batch_norm(&self.bn, y, residual, relu)
    }

    /// The convolution (through the training periphery under weight noise), before the BN.
    pub fn conv_forward(&self, x: Tensor<4>, mut noise: Option<&mut WeightNoise>) -> Tensor<4> {
        let w = perturb(self.conv.weight.val(), noise.as_deref_mut());
        let padding = match self.conv.padding {
            PaddingConfig2d::Explicit(t, l, _, _) => [t, l],
            _ => [0, 0],
        };
        let options = burn::tensor::ops::ConvOptions::new(
            self.conv.stride,
            padding,
            self.conv.dilation,
            self.conv.groups,
        );
        let y = super::fast::conv2d(x.clone(), w.clone(), options);
        match noise {
            Some(n) => n.conv_through_periphery(y, &x, &w, self.conv.stride[0], padding[0]),
            None => y,
        }
    }
}

/// One branch: convs with ReLU between them and none after the last.
#[derive(Module, Debug)]
pub struct Branch {
    /// The convs in order.
    pub layers: Vec<ConvBn>,
}

impl Branch {
    /// Every layer but the last (conv, BN, ReLU), then the last layer's convolution: the
    /// last layer and its convolution's output, whose BN the caller applies (fused with what
    /// follows it).
    fn forward_to_last_conv(
        &self,
        x: Tensor<4>,
        mut noise: Option<&mut WeightNoise>,
    ) -> (&ConvBn, Tensor<4>) {
        let (last, first) = self.layers.split_last().expect("a branch has layers");
        let y = first
            .iter()
            .fold(x, |y, l| l.forward_act(y, noise.as_deref_mut(), None, true));
        (last, last.conv_forward(y, noise))
    }
}

/// A residual block: `ReLU(sum of branches + shortcut)`.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// Parallel branches, summed.
    pub branches: Vec<Branch>,
    /// Projection shortcut when the shape changes; identity otherwise.
    pub shortcut: Option<ConvBn>,
}

/// A ResNet-like network built from an [`Arch`]: stem, residual blocks, global pooling, linear head.
#[derive(Module, Debug)]
pub struct Network {
    /// Stem conv + BN (ReLU after).
    pub stem: ConvBn,
    /// Residual blocks of all main blocks, in order.
    pub blocks: Vec<ResidualBlock>,
    /// Linear classifier (bias digital).
    pub head: Linear,
}

impl Network {
    /// Builds the network an architecture describes, with fresh weights on `device`.
    pub fn from_arch(arch: &Arch, device: &Device) -> Self {
        Self::from_plan(&arch.plan(), device)
    }

    /// Builds the network with weights drawn from `seed` (He-uniform for convs, uniform
    /// `1/sqrt(fan_in)` for the head): the same seed gives the same weights on any thread.
    pub fn from_arch_seeded(arch: &Arch, device: &Device, seed: u64) -> Self {
        let net = Self::from_arch(arch, device);
        let mut init = SeededInit {
            rng: crate::rng::seeded(seed),
        };
        let mut net = net.map(&mut init);
        net.head.bias = net.head.bias.map(|b| {
            b.map(|t| {
                let rg = t.is_require_grad();
                let z = t.zeros_like();
                if rg { z.require_grad() } else { z }
            })
        });
        net
    }

    /// Builds the network of a layer plan.
    pub fn from_plan(plan: &NetworkPlan, device: &Device) -> Self {
        let blocks = plan
            .blocks
            .iter()
            .map(|b| ResidualBlock {
                branches: b
                    .branches
                    .iter()
                    .map(|br| Branch {
                        layers: br.iter().map(|l| ConvBn::new(l, device)).collect(),
                    })
                    .collect(),
                shortcut: b.shortcut.as_ref().map(|l| ConvBn::new(l, device)),
            })
            .collect();
        Network {
            stem: ConvBn::new(&plan.stem, device),
            blocks,
            head: LinearConfig::new(plan.head.c_in, plan.head.c_out).init(device),
        }
    }

    /// Digital forward pass: logits.
    ///
    /// # Shapes
    /// - input `[batch, c, h, w]`, output `[batch, classes]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_noisy(x, None)
    }

    /// Forward pass with optional hardware-aware weight noise on every analog layer.
    pub fn forward_noisy(&self, x: Tensor<4>, mut noise: Option<&mut WeightNoise>) -> Tensor<2> {
        let mut x = self.stem.forward_act(x, noise.as_deref_mut(), None, true);
        for block in &self.blocks {
            // ReLU(sum of branches + shortcut): the last BN of the last branch takes the rest
            // as its residual, so that BN, the add and the ReLU are one operation. The weight
            // noise is drawn in layer order (branches, then the shortcut) all the same.
            let (last, others) = block.branches.split_last().expect("a block has branches");
            let mut rest: Option<Tensor<4>> = None;
            for br in others {
                let (l, conv) = br.forward_to_last_conv(x.clone(), noise.as_deref_mut());
                let y = l.bn_forward(conv, None, false);
                rest = Some(match rest {
                    Some(s) => s + y,
                    None => y,
                });
            }
            let (l, conv) = last.forward_to_last_conv(x.clone(), noise.as_deref_mut());
            let short = match &block.shortcut {
                Some(s) => s.forward(x, noise.as_deref_mut()),
                None => x,
            };
            let rest = match rest {
                Some(s) => s + short,
                None => short,
            };
            x = l.bn_forward(conv, Some(rest), true);
        }
        let [n, c, _, _] = x.dims();
        let pooled = x.mean_dim(3).mean_dim(2).reshape([n, c]);
        let w = perturb(self.head.weight.val(), noise.as_deref_mut());
        let b = self.head.bias.as_ref().map(|b| b.val());
        let y = pooled.clone().matmul(w.clone());
        let y = match noise {
            Some(n) => n.linear_through_periphery(y, &pooled, &w),
            None => y,
        };
        match b {
            Some(b) => y + b.unsqueeze(),
            None => y,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;
    use crate::space::{ConvType, Downsample, Genome, MainBlock};
    use crate::task::Task;

    fn shape_of(arch: &Arch, batch: usize) -> [usize; 2] {
        let d = crate::device::default_device();
        let net = Network::from_arch(arch, &d);
        let [c, h, w] = arch.input;
        net.forward(Tensor::zeros([batch, c, h, w], &d)).dims()
    }

    #[test]
    fn forward_shapes_for_every_task_type_and_depth() {
        for task in [
            Task::Digits,
            Task::Mnist,
            Task::Kws,
            Task::Cifar10,
            Task::Vww,
        ] {
            for ct in ConvType::ALL {
                let g = Genome {
                    oc0: 4,
                    ks0: 3,
                    blocks: vec![MainBlock {
                        r: 1,
                        b: 2,
                        ct,
                        wf: 2,
                    }],
                    downsample: Downsample::LastTwo,
                    hardware: None,
                };
                let a = Arch::for_task(g, task);
                assert_eq!(shape_of(&a, 2), [2, task.classes()]);
            }
        }
        for m in 1..=5 {
            let g = Genome {
                oc0: 4,
                ks0: 5,
                blocks: vec![
                    MainBlock {
                        r: 1,
                        b: 1,
                        ct: ConvType::B,
                        wf: 1
                    };
                    m
                ],
                downsample: Downsample::AllButFirst,
                hardware: None,
            };
            assert_eq!(shape_of(&Arch::for_task(g, Task::Digits), 1), [1, 10]);
        }
    }

    #[test]
    fn module_parameters_match_plan() {
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Cifar10);
        let net = Network::from_arch(&a, &crate::device::default_device());
        // burn counts BN running mean and variance too: 2 per BN channel.
        let bn_channels: usize = a
            .plan()
            .layers()
            .iter()
            .filter(|l| l.kind == crate::nn::LayerKind::Conv)
            .map(|l| l.c_out)
            .sum();
        assert_eq!(net.num_params(), a.params() + 2 * bn_channels);
    }

    #[test]
    fn seeded_init_is_deterministic() {
        let d = crate::device::default_device();
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Digits);
        let x = Tensor::<4>::ones([2, 1, 8, 8], &d);
        let y1 = Network::from_arch_seeded(&a, &d, 5)
            .forward(x.clone())
            .into_data();
        let y2 = Network::from_arch_seeded(&a, &d, 5)
            .forward(x.clone())
            .into_data();
        let y3 = Network::from_arch_seeded(&a, &d, 6).forward(x).into_data();
        assert_eq!(y1, y2);
        assert_ne!(y1, y3);
    }

    #[test]
    fn weight_noise_changes_outputs() {
        let d = crate::device::default_device();
        let a = Arch::for_task(Reference::Resnet8.genome(), Task::Digits);
        let net = Network::from_arch(&a, &d);
        let x = Tensor::<4>::ones([1, 1, 8, 8], &d);
        let clean = net.forward(x.clone());
        let mut noise = WeightNoise::new(0.1, crate::rng::seeded(1));
        let noisy = net.forward_noisy(x, Some(&mut noise));
        let diff: f32 = (clean - noisy).abs().sum().into_scalar();
        assert!(diff > 0.0);
    }
}
