//! The weights of a [`Network`] as a PyTorch state dict in a `.safetensors` file.
//!
//! Names follow the module that [`super::pytorch::model_py`] generates, which mirrors the burn
//! module's structure field by field: `stem.conv.weight`, `stem.bn.{weight,bias,running_mean,
//! running_var}`, `blocks.{i}.branches.{j}.layers.{k}.{conv,bn}.*`, `blocks.{i}.shortcut.*`,
//! `head.weight`, `head.bias`. Values are copied verbatim (float32, little-endian); the only
//! change of layout is the head's weight, which burn stores `[in, out]` and PyTorch `[out, in]`.

use crate::error::{Error, Result};
use crate::nn::{ConvBn, Network};
use burn::tensor::Tensor;
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use std::collections::HashMap;

/// One tensor of a state dict: name, shape and float32 values (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct StateTensor {
    /// PyTorch parameter or buffer name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

fn values<const D: usize>(name: &str, t: Tensor<D>) -> Result<StateTensor> {
    let shape = t.dims().to_vec();
    let data = t
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::input(format!("{name}: expected float32 weights to export: {e:?}")))?;
    Ok(StateTensor {
        name: name.to_string(),
        shape,
        data,
    })
}

fn conv_bn(prefix: &str, l: &ConvBn, out: &mut Vec<StateTensor>) -> Result<()> {
    out.push(values(
        &format!("{prefix}.conv.weight"),
        l.conv.weight.val(),
    )?);
    out.push(values(&format!("{prefix}.bn.weight"), l.bn.gamma.val())?);
    out.push(values(&format!("{prefix}.bn.bias"), l.bn.beta.val())?);
    out.push(values(
        &format!("{prefix}.bn.running_mean"),
        l.bn.running_mean.value(),
    )?);
    out.push(values(
        &format!("{prefix}.bn.running_var"),
        l.bn.running_var.value(),
    )?);
    Ok(())
}

/// The network's parameters and batch-norm statistics as a PyTorch state dict, in forward order.
pub fn state_dict(net: &Network) -> Result<Vec<StateTensor>> {
    let mut out = Vec::new();
    conv_bn("stem", &net.stem, &mut out)?;
    for (i, block) in net.blocks.iter().enumerate() {
        for (j, branch) in block.branches.iter().enumerate() {
            for (k, layer) in branch.layers.iter().enumerate() {
                conv_bn(
                    &format!("blocks.{i}.branches.{j}.layers.{k}"),
                    layer,
                    &mut out,
                )?;
            }
        }
        if let Some(s) = &block.shortcut {
            conv_bn(&format!("blocks.{i}.shortcut"), s, &mut out)?;
        }
    }
    // burn's Linear weight is [in, out]; torch.nn.Linear's is [out, in].
    out.push(values("head.weight", net.head.weight.val().transpose())?);
    if let Some(b) = &net.head.bias {
        out.push(values("head.bias", b.val())?);
    }
    Ok(out)
}

/// A tensor to store: float32 or int64 values as little-endian bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    /// float32 values.
    F32(Vec<f32>),
    /// int64 values.
    I64(Vec<i64>),
}

/// Serialises named tensors (with string metadata) to the bytes of a `.safetensors` file.
pub fn to_bytes(
    tensors: &[(String, Vec<usize>, Stored)],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let bytes: Vec<(Dtype, Vec<u8>)> = tensors
        .iter()
        .map(|(_, _, v)| match v {
            Stored::F32(v) => (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Stored::I64(v) => (Dtype::I64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        })
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), (dtype, b))| {
            TensorView::new(*dtype, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::input(format!("{name}: cannot store tensor: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::input(format!("cannot serialise safetensors: {e}")))
}

/// The state dict of `net` as `.safetensors` bytes.
pub fn state_dict_bytes(net: &Network, metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let tensors: Vec<(String, Vec<usize>, Stored)> = state_dict(net)?
        .into_iter()
        .map(|t| (t.name, t.shape, Stored::F32(t.data)))
        .collect();
    to_bytes(&tensors, metadata)
}
