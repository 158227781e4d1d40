//! Fast CPU operations added to burn through its backend-extension mechanism.
//!
//! [`FastConv`] is a `#[backend_extension]` trait implemented for burn's `Flex` CPU backend
//! (the kernels of [`super::kernels`]) and for `Autodiff<B>` (a custom backward step that calls
//! the inner backend's input- and weight-gradient kernels). The macro generates the `Dispatch`
//! implementation, so the operation takes and returns ordinary runtime-dispatched tensors and
//! every model keeps its burn modules and records.
//!
//! [`conv2d`] is the entry point: it takes the fast path for `f32` dense (groups 1, dilation 1)
//! convolutions on a flex device (with or without autodiff) and falls back to
//! `burn::tensor::module::conv2d` for everything else (other devices, grouped or dilated
//! kernels, other dtypes).

use super::kernels::{self, ConvGeom};
use super::norm::{self, BnGeom};
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    AutodiffBackend, Backend, DType, Dispatch, Flex, TensorMetadata, backend_extension,
};
use burn::nn::BatchNorm;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use std::cell::Cell;

/// A 2-D convolution without bias whose backward is the backend's own.
#[backend_extension(Flex, Autodiff)]
pub trait FastConv: Backend {
    /// `conv2d(x, weight)` without bias.
    fn fast_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
    /// The gradient of `x` of [`FastConv::fast_conv2d`] given the output gradient.
    fn fast_conv2d_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
    /// The gradient of `weight` of [`FastConv::fast_conv2d`] given the output gradient.
    fn fast_conv2d_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

/// The kernel geometry of a convolution the fast kernels cover, `None` otherwise.
fn geometry(x: &[usize], w: &[usize], options: &ConvOptions<2>) -> Option<ConvGeom> {
    let [(pt, pb), (pl, pr)] = options.padding;
    if x.len() != 4
        || w.len() != 4
        || options.groups != 1
        || options.dilation != [1, 1]
        || pt != pb
        || pl != pr
    {
        return None;
    }
    let g = ConvGeom {
        n: x[0],
        c: x[1],
        h: x[2],
        w: x[3],
        o: w[0],
        k: [w[2], w[3]],
        stride: options.stride,
        pad: [pt, pl],
    };
    (w[1] == x[1] && g.valid()).then_some(g)
}

/// Whether the fast kernels cover a convolution of these shapes.
pub fn covers(x: &[usize], w: &[usize], options: &ConvOptions<2>) -> bool {
    geometry(x, w, options).is_some()
}

/// The contiguous `f32` values of a flex tensor.
fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(t.to_contiguous().as_slice::<f32>().expect("f32").to_vec()),
    }
}

fn flex_tensor(v: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape))
}

fn f32_pair(a: &FlexTensor, b: &FlexTensor) -> bool {
    a.dtype() == DType::F32 && b.dtype() == DType::F32
}

impl FastConv for Flex {
    fn fast_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        match geometry(&x.shape(), &weight.shape(), &options) {
            Some(g) if f32_pair(&x, &weight) => {
                let [oh, ow] = g.out_hw();
                let y = kernels::conv_forward(&g, &values(&x), &values(&weight));
                flex_tensor(y, vec![g.n, g.o, oh, ow])
            }
            _ => <Flex as ModuleOps<Flex>>::conv2d(x, weight, None, options),
        }
    }

    fn fast_conv2d_x_backward(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        match geometry(&x.shape(), &weight.shape(), &options) {
            Some(g) if f32_pair(&grad, &weight) => {
                let dx = kernels::conv_backward_x(&g, &values(&weight), &values(&grad));
                flex_tensor(dx, vec![g.n, g.c, g.h, g.w])
            }
            _ => <Flex as ModuleOps<Flex>>::conv2d_x_backward(x, weight, grad, options),
        }
    }

    fn fast_conv2d_weight_backward(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        match geometry(&x.shape(), &weight.shape(), &options) {
            Some(g) if f32_pair(&x, &grad) => {
                let dw = kernels::conv_backward_w(&g, &values(&x), &values(&grad));
                flex_tensor(dw, vec![g.o, g.c, g.k[0], g.k[1]])
            }
            _ => <Flex as ModuleOps<Flex>>::conv2d_weight_backward(x, weight, grad, options),
        }
    }
}

#[derive(Debug)]
struct FastConvBackward;

impl<B: Backend + FastConv> Backward<B, 2> for FastConvBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, ConvOptions<2>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, w, options) = ops.state;
        if let Some(node) = node_x {
            let dx = B::fast_conv2d_x_backward(x.clone(), w.clone(), grad.clone(), options.clone());
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_w {
            let dw = B::fast_conv2d_weight_backward(x, w, grad, options);
            grads.register::<B>(node.id, dw);
        }
    }
}

impl<B: Backend + FastConv, C: CheckpointStrategy> FastConv for Autodiff<B, C> {
    fn fast_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match FastConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, wp) = (x.into_primitive(), weight.into_primitive());
                let y = B::fast_conv2d(xp.clone(), wp.clone(), options.clone());
                prep.finish((xp, wp, options), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fast_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                options,
            )),
        }
    }

    // Second-order gradients are not needed: the gradient kernels are constants to autodiff.
    fn fast_conv2d_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::fast_conv2d_x_backward(
            x.into_primitive(),
            weight.into_primitive(),
            grad.into_primitive(),
            options,
        ))
    }

    fn fast_conv2d_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::fast_conv2d_weight_backward(
            x.into_primitive(),
            weight.into_primitive(),
            grad.into_primitive(),
            options,
        ))
    }
}

/// Training-mode batch norm fused with the residual add and ReLU that follow it.
#[backend_extension(Flex, Autodiff)]
pub trait FastNorm: Backend {
    /// `act(batch_norm_train(x, gamma, beta))` with the batch statistics:
    /// `(output, mean, biased variance)`; `act` is the ReLU when `relu`.
    fn fast_bn_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
    /// [`FastNorm::fast_bn_train`] with `residual` added before the activation.
    fn fast_bn_residual_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
    /// The gradients of [`FastNorm::fast_bn_train`] given its output `y` and the output
    /// gradient: `(x, gamma, beta, residual)`.
    #[allow(clippy::too_many_arguments)]
    fn fast_bn_train_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        y: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
        with_residual: bool,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

/// The batch-norm geometry of a 4-D `f32` tensor, `None` for anything else.
fn bn_geometry(x: &FlexTensor) -> Option<BnGeom> {
    let s = x.shape();
    (s.len() == 4 && x.dtype() == DType::F32).then(|| BnGeom {
        n: s[0],
        c: s[1],
        hw: s[2] * s[3],
    })
}

fn f32_vec(t: &FlexTensor) -> Vec<f32> {
    values(t).into_owned()
}

fn flex_bn_train(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    residual: Option<FlexTensor>,
    epsilon: f64,
    relu: bool,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    match bn_geometry(&x) {
        Some(g) if residual.as_ref().is_none_or(|r| r.dtype() == DType::F32) => {
            let xs = values(&x);
            let (mean, var) = norm::stats(&g, &xs);
            let r = residual.as_ref().map(values);
            let y = norm::forward(
                &g,
                &xs,
                &f32_vec(&gamma),
                &f32_vec(&beta),
                &mean,
                &var,
                epsilon,
                r.as_deref(),
                relu,
            );
            (
                flex_tensor(y, x.shape().to_vec()),
                flex_tensor(mean, vec![g.c]),
                flex_tensor(var, vec![g.c]),
            )
        }
        _ => {
            let r = <Flex as ModuleOps<Flex>>::batch_norm_train(x, gamma, beta, epsilon);
            let mut y = r.output;
            if let Some(res) = residual {
                y = Flex::float_add(y, res);
            }
            if relu {
                y = Flex::relu(y);
            }
            (y, r.mean, r.variance)
        }
    }
}

impl FastNorm for Flex {
    fn fast_bn_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        relu: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        flex_bn_train(x, gamma, beta, None, epsilon, relu)
    }

    fn fast_bn_residual_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        residual: FlexTensor,
        epsilon: f64,
        relu: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        flex_bn_train(x, gamma, beta, Some(residual), epsilon, relu)
    }

    fn fast_bn_train_backward(
        x: FlexTensor,
        gamma: FlexTensor,
        mean: FlexTensor,
        variance: FlexTensor,
        y: FlexTensor,
        grad: FlexTensor,
        epsilon: f64,
        relu: bool,
        with_residual: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        match bn_geometry(&x) {
            Some(g) if grad.dtype() == DType::F32 && y.dtype() == DType::F32 => {
                let (dx, dgamma, dbeta, dz) = norm::backward(
                    &g,
                    &values(&x),
                    &f32_vec(&gamma),
                    &f32_vec(&mean),
                    &f32_vec(&variance),
                    epsilon,
                    &values(&y),
                    &values(&grad),
                    relu,
                    with_residual,
                );
                let shape = x.shape().to_vec();
                let dz_shape = if with_residual {
                    shape.clone()
                } else {
                    vec![0]
                };
                (
                    flex_tensor(dx, shape),
                    flex_tensor(dgamma, vec![g.c]),
                    flex_tensor(dbeta, vec![g.c]),
                    flex_tensor(dz, dz_shape),
                )
            }
            _ => {
                let dz = if relu {
                    Flex::relu_backward(y, grad)
                } else {
                    grad
                };
                let b = <Flex as ModuleOps<Flex>>::batch_norm_train_backward(
                    x,
                    gamma,
                    mean,
                    variance,
                    epsilon,
                    dz.clone(),
                );
                (b.x_grad, b.gamma_grad, b.beta_grad, dz)
            }
        }
    }
}

/// The backward step of [`FastNorm::fast_bn_train`]: parents `x, gamma, beta` and, with
/// `N = 4`, the residual.
#[derive(Debug)]
struct FastNormBackward<const N: usize>;

impl<B: Backend + FastNorm, const N: usize> Backward<B, N> for FastNormBackward<N> {
    #[allow(clippy::type_complexity)]
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        f64,
        bool,
    );

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let (x, gamma, mean, var, y, eps, relu) = ops.state;
        let (dx, dgamma, dbeta, dres) =
            B::fast_bn_train_backward(x, gamma, mean, var, y, grad, eps, relu, N == 4);
        let parents = ops.parents;
        for (i, g) in [dx, dgamma, dbeta, dres].into_iter().enumerate().take(N) {
            if let Some(node) = &parents[i] {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// The inner backend's fused batch norm, with or without a residual.
fn inner_bn<B: FastNorm>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    residual: Option<FloatTensor<B>>,
    epsilon: f64,
    relu: bool,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    match residual {
        Some(r) => B::fast_bn_residual_train(x, gamma, beta, r, epsilon, relu),
        None => B::fast_bn_train(x, gamma, beta, epsilon, relu),
    }
}

/// Runs [`FastNorm::fast_bn_train`] of the inner backend under autodiff with `nodes` as the
/// parents (`x, gamma, beta[, residual]`).
#[allow(clippy::type_complexity)]
fn bn_tracked<B: Backend + FastNorm, C: CheckpointStrategy, const N: usize>(
    nodes: [NodeGuard; N],
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    residual: Option<FloatTensor<B>>,
    epsilon: f64,
    relu: bool,
) -> (
    FloatTensor<Autodiff<B, C>>,
    FloatTensor<Autodiff<B, C>>,
    FloatTensor<Autodiff<B, C>>,
) {
    let stats = |m: FloatTensor<B>, v: FloatTensor<B>| {
        (
            <Autodiff<B, C> as AutodiffBackend>::from_inner(m),
            <Autodiff<B, C> as AutodiffBackend>::from_inner(v),
        )
    };
    match FastNormBackward::<N>
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (y, m, v) = inner_bn::<B>(x.clone(), gamma.clone(), beta, residual, epsilon, relu);
            let state = (x, gamma, m.clone(), v.clone(), y.clone(), epsilon, relu);
            let (m, v) = stats(m, v);
            (prep.finish(state, y), m, v)
        }
        OpsKind::UnTracked(prep) => {
            let (y, m, v) = inner_bn::<B>(x, gamma, beta, residual, epsilon, relu);
            let (m, v) = stats(m, v);
            (prep.finish(y), m, v)
        }
    }
}

impl<B: Backend + FastNorm, C: CheckpointStrategy> FastNorm for Autodiff<B, C> {
    fn fast_bn_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (xp, xn) = x.into_parts();
        let (gp, gn) = gamma.into_parts();
        let (bp, bn) = beta.into_parts();
        bn_tracked::<B, C, 3>([xn, gn, bn], xp, gp, bp, None, epsilon, relu)
    }

    fn fast_bn_residual_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (xp, xn) = x.into_parts();
        let (gp, gn) = gamma.into_parts();
        let (bp, bn) = beta.into_parts();
        let (rp, rn) = residual.into_parts();
        bn_tracked::<B, C, 4>([xn, gn, bn, rn], xp, gp, bp, Some(rp), epsilon, relu)
    }

    // Second-order gradients are not needed: the gradient kernels are constants to autodiff.
    fn fast_bn_train_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        y: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
        with_residual: bool,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let (dx, dg, db, dr) = B::fast_bn_train_backward(
            x.into_primitive(),
            gamma.into_primitive(),
            mean.into_primitive(),
            variance.into_primitive(),
            y.into_primitive(),
            grad.into_primitive(),
            epsilon,
            relu,
            with_residual,
        );
        (
            Self::from_inner(dx),
            Self::from_inner(dg),
            Self::from_inner(db),
            Self::from_inner(dr),
        )
    }
}

thread_local! {
    static FLEX_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the fast operations switched off on this thread (burn's own flex operations
/// instead): for benchmarks and tests that compare both.
pub fn with_flex_ops<T>(f: impl FnOnce() -> T) -> T {
    let before = FLEX_ONLY.with(|c| c.replace(true));
    let out = f();
    FLEX_ONLY.with(|c| c.set(before));
    out
}

/// Whether `device` is burn's flex CPU device (with or without autodiff).
pub fn is_flex(device: &Device) -> bool {
    device.clone().inner() == Device::flex()
}

/// `conv2d(x, weight)` (no bias) through [`FastConv`] where it applies, burn's `conv2d`
/// otherwise.
///
/// # Shapes
/// - `x` `[n, c_in, h, w]`, `weight` `[c_out, c_in / groups, kh, kw]`, output
///   `[n, c_out, oh, ow]`
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>) -> Tensor<4> {
    let fast = !FLEX_ONLY.with(Cell::get)
        && covers(&x.dims(), &weight.dims(), &options)
        && is_flex(&x.device());
    if fast {
        Tensor::from_dispatch(<Dispatch as FastConv>::fast_conv2d(
            x.into_dispatch(),
            weight.into_dispatch(),
            options,
        ))
    } else {
        burn::tensor::module::conv2d(x, weight, None, options)
    }
}

/// Whether [`batch_norm`] takes the fused path for this layer and input.
pub fn fuses_batch_norm(bn: &BatchNorm, x: &Tensor<4>) -> bool {
    let device = x.device();
    !FLEX_ONLY.with(Cell::get)
        && device.is_autodiff()
        && bn.training.is_enabled()
        && is_flex(&device)
        && x.dtype() == DType::F32
}

/// `act(bn(x) + residual)`: batch norm, the residual added when there is one, then the ReLU
/// when `relu` (else the identity).
///
/// In training (an autodiff device and a layer whose `training` flag is on, as
/// [`BatchNorm::forward`] decides) on a flex device this is one [`FastNorm`] operation, and it
/// updates the layer's running statistics exactly as `BatchNorm::forward` does (momentum,
/// biased variance). Elsewhere it is burn's `BatchNorm::forward` and tensor operations.
///
/// # Shapes
/// - `x` and `residual` `[n, c, h, w]`, output `[n, c, h, w]`
pub fn batch_norm(
    bn: &BatchNorm,
    x: Tensor<4>,
    residual: Option<Tensor<4>>,
    relu: bool,
) -> Tensor<4> {
    let device = x.device();
    if !fuses_batch_norm(bn, &x) {
        let mut y = bn.forward(x);
        if let Some(r) = residual {
            y = y + r;
        }
        return if relu {
            burn::tensor::activation::relu(y)
        } else {
            y
        };
    }
    let (x, gamma, beta) = (
        x.into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
    );
    let (y, mean, var) = match residual {
        Some(r) => <Dispatch as FastNorm>::fast_bn_residual_train(
            x,
            gamma,
            beta,
            r.into_dispatch(),
            bn.epsilon,
            relu,
        ),
        None => <Dispatch as FastNorm>::fast_bn_train(x, gamma, beta, bn.epsilon, relu),
    };
    let (mean, var) = (
        Tensor::<1>::from_dispatch(mean),
        Tensor::<1>::from_dispatch(var),
    );
    let update = |running: Tensor<1>, batch: Tensor<1>| {
        running
            .to_device(&device)
            .mul_scalar(1.0 - bn.momentum)
            .add(batch.detach().mul_scalar(bn.momentum))
            .detach()
    };
    bn.running_mean
        .update(update(bn.running_mean.value_sync(), mean));
    bn.running_var
        .update(update(bn.running_var.value_sync(), var));
    Tensor::from_dispatch(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{normal, seeded};

    fn random<const D: usize>(dims: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
        let mut rng = seeded(seed);
        let n: usize = dims.iter().product();
        let v: Vec<f32> = (0..n).map(|_| normal(&mut rng)).collect();
        Tensor::from_data(TensorData::new(v, dims), device)
    }

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    fn close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: sizes");
        let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 2e-5 * scale, "{what}[{i}]: {x} vs {y}");
        }
    }

    /// Output, input gradient and weight gradient of `conv2d` on random tensors, against a
    /// random upstream gradient.
    fn run(
        [n, c, h, w, o]: [usize; 5],
        k: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
        seed: u64,
    ) -> [Vec<f32>; 3] {
        let d = Device::flex().autodiff();
        let x = random([n, c, h, w], seed, &d).require_grad();
        let wt = random([o, c, k[0], k[1]], seed + 1, &d).require_grad();
        let options = ConvOptions::new(stride, pad, [1, 1], 1);
        let y = conv2d(x.clone(), wt.clone(), options);
        let up = random(y.dims(), seed + 2, &d);
        let grads = (y.clone() * up).sum().backward();
        let dx = x.grad(&grads).unwrap();
        let dw = wt.grad(&grads).unwrap();
        [values(y.inner()), values(dx), values(dw)]
    }

    #[test]
    fn fast_conv_matches_flex_forward_and_gradients() {
        type Case = ([usize; 5], [usize; 2], [usize; 2], [usize; 2]);
        let cases: &[Case] = &[
            ([2, 3, 9, 7, 5], [3, 3], [1, 1], [1, 1]),
            ([1, 4, 8, 8, 6], [3, 3], [2, 2], [1, 1]),
            ([3, 5, 6, 6, 4], [1, 1], [1, 1], [0, 0]),
            ([2, 6, 10, 9, 3], [1, 1], [2, 2], [0, 0]),
            ([1, 2, 15, 15, 3], [7, 7], [2, 2], [3, 3]),
            ([2, 3, 5, 5, 2], [7, 7], [1, 1], [3, 3]),
            ([1, 1, 4, 4, 1], [2, 2], [1, 1], [0, 0]),
            ([5, 8, 7, 7, 8], [3, 3], [1, 1], [0, 0]),
            ([2, 3, 6, 5, 4], [3, 1], [1, 2], [1, 0]),
            ([9, 4, 6, 6, 3], [5, 5], [3, 3], [2, 2]),
        ];
        for (i, &(dims, k, s, p)) in cases.iter().enumerate() {
            let fast = run(dims, k, s, p, 10 * i as u64);
            let flex = with_flex_ops(|| run(dims, k, s, p, 10 * i as u64));
            for (j, what) in ["output", "input gradient", "weight gradient"]
                .iter()
                .enumerate()
            {
                close(&fast[j], &flex[j], &format!("case {i} {what}"));
            }
        }
    }

    #[test]
    fn weight_gradient_does_not_depend_on_threads() {
        let on = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| run([9, 3, 8, 8, 4], [3, 3], [1, 1], [1, 1], 3))
        };
        assert_eq!(on(1), on(2));
    }

    /// Output, running statistics and the gradients of x, gamma, beta and the residual of
    /// `batch_norm` on random tensors against a random upstream gradient.
    fn run_bn(dims: [usize; 4], residual: bool, relu: bool, seed: u64) -> Vec<Vec<f32>> {
        use burn::nn::BatchNormConfig;
        let d = Device::flex().autodiff();
        let bn = BatchNormConfig::new(dims[1]).init(&d);
        let bn = BatchNorm {
            gamma: bn
                .gamma
                .map(|_| random([dims[1]], seed + 3, &d).require_grad()),
            beta: bn
                .beta
                .map(|_| random([dims[1]], seed + 4, &d).require_grad()),
            ..bn
        };
        let x = (random(dims, seed, &d) * 3.0 + 1.0).require_grad();
        assert_eq!(fuses_batch_norm(&bn, &x), !FLEX_ONLY.with(Cell::get));
        let r = residual.then(|| random(dims, seed + 1, &d).require_grad());
        let y = batch_norm(&bn, x.clone(), r.clone(), relu);
        let up = random(dims, seed + 2, &d);
        let grads = (y.clone() * up).sum().backward();
        let flat = |t: Tensor<1>| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        let mut out = vec![
            values(y.inner()),
            values(x.grad(&grads).unwrap()),
            flat(bn.gamma.val().grad(&grads).unwrap()),
            flat(bn.beta.val().grad(&grads).unwrap()),
            flat(bn.running_mean.value().inner()),
            flat(bn.running_var.value().inner()),
        ];
        if let Some(r) = r {
            out.push(values(r.grad(&grads).unwrap()));
        }
        out
    }

    #[test]
    fn fused_batch_norm_matches_flex_forward_gradients_and_running_stats() {
        let cases: &[([usize; 4], bool, bool)] = &[
            ([2, 3, 5, 4], false, true),
            ([1, 4, 6, 6], false, false),
            ([3, 5, 1, 1], true, true),
            ([4, 2, 7, 3], true, false),
            ([1, 1, 9, 9], true, true),
            ([8, 16, 4, 4], false, true),
        ];
        for (i, &(dims, res, relu)) in cases.iter().enumerate() {
            let fast = run_bn(dims, res, relu, 7 * i as u64);
            let flex = with_flex_ops(|| run_bn(dims, res, relu, 7 * i as u64));
            let names = [
                "output",
                "dx",
                "dgamma",
                "dbeta",
                "running mean",
                "running var",
                "dresidual",
            ];
            assert_eq!(fast.len(), flex.len());
            for (j, (a, b)) in fast.iter().zip(&flex).enumerate() {
                let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
                assert_eq!(a.len(), b.len());
                for (k, (x, y)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (x - y).abs() <= 1e-4 * scale,
                        "case {i} {}[{k}]: {x} vs {y}",
                        names[j]
                    );
                }
            }
        }
    }

    #[test]
    fn fused_batch_norm_does_not_depend_on_threads() {
        let on = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| run_bn([16, 8, 20, 20], true, true, 11))
        };
        assert_eq!(on(1), on(3));
    }

    #[test]
    fn grouped_and_dilated_convolutions_fall_back_to_flex() {
        let d = Device::flex();
        let x = random([2, 4, 6, 6], 1, &d);
        let w = random([4, 2, 3, 3], 2, &d);
        let grouped = ConvOptions::new([1, 1], [1, 1], [1, 1], 2);
        assert!(!covers(&x.dims(), &w.dims(), &grouped));
        let y = conv2d(x.clone(), w.clone(), grouped.clone());
        let r = burn::tensor::module::conv2d(x.clone(), w, None, grouped);
        assert_eq!(y.into_data(), r.into_data());
        let w = random([3, 4, 3, 3], 3, &d);
        assert!(!covers(
            &x.dims(),
            &w.dims(),
            &ConvOptions::new([1, 1], [1, 1], [2, 2], 1)
        ));
        assert!(covers(
            &x.dims(),
            &w.dims(),
            &ConvOptions::new([1, 1], [1, 1], [1, 1], 1)
        ));
    }
}
