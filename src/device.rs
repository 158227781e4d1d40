//! The one place that chooses burn's backend.

use burn::tensor::Device;

/// A burn CPU backend analognas can run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// burn's `flex` CPU backend (the default; about 20x faster than ndarray for training).
    #[default]
    Flex,
    /// burn's deprecated `ndarray` backend (needs the `ndarray` cargo feature).
    Ndarray,
}

impl Backend {
    /// The inference device of this backend.
    pub fn device(self) -> crate::error::Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            Backend::Ndarray => Ok(Device::ndarray()),
            #[cfg(not(feature = "ndarray"))]
            Backend::Ndarray => Err(crate::error::Error::input(
                "--backend ndarray: this binary was built without the `ndarray` feature (cargo build --release --features ndarray)",
            )),
        }
    }
}

impl crate::choice::Choice for Backend {
    const ALL: &'static [Self] = &[Backend::Flex, Backend::Ndarray];
    fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
        }
    }
}

/// The default inference device (flex CPU).
pub fn default_device() -> Device {
    Device::flex()
}

/// The autodiff (training) device wrapping `device`.
pub fn training_device(device: &Device) -> Device {
    device.clone().autodiff()
}

/// Where training runs: burn's flex CPU backend (with this crate's fast operations) or a GPU
/// through burn's Vulkan backend (the `gpu` cargo feature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ComputeDevice {
    /// The CPU (flex).
    #[default]
    Cpu,
    /// The discrete GPU of this index (Vulkan).
    Gpu(usize),
}

impl std::fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComputeDevice::Cpu => write!(f, "cpu"),
            ComputeDevice::Gpu(n) => write!(f, "gpu:{n}"),
        }
    }
}

impl std::str::FromStr for ComputeDevice {
    type Err = crate::error::Error;

    /// `cpu`, `gpu` (= `gpu:0`) or `gpu:N`.
    fn from_str(s: &str) -> crate::error::Result<Self> {
        let bad = || {
            crate::error::Error::input(format!(
                "--device: expected cpu, gpu or gpu:N (N a GPU index), got {s:?}"
            ))
        };
        match s.trim() {
            "cpu" => Ok(ComputeDevice::Cpu),
            "gpu" => Ok(ComputeDevice::Gpu(0)),
            other => other
                .strip_prefix("gpu:")
                .and_then(|n| n.parse().ok())
                .map(ComputeDevice::Gpu)
                .ok_or_else(bad),
        }
    }
}

impl ComputeDevice {
    /// The burn device (without autodiff).
    pub fn device(self) -> crate::error::Result<Device> {
        match self {
            ComputeDevice::Cpu => Ok(Device::flex()),
            #[cfg(feature = "gpu")]
            ComputeDevice::Gpu(n) => Ok(Device::vulkan(burn::tensor::DeviceKind::DiscreteGpu(n))),
            #[cfg(not(feature = "gpu"))]
            ComputeDevice::Gpu(_) => Err(crate::error::Error::input(
                "--device gpu: this binary was built without the `gpu` feature (cargo build --release --features gpu)",
            )),
        }
    }
}

static COMPUTE: std::sync::RwLock<ComputeDevice> = std::sync::RwLock::new(ComputeDevice::Cpu);

/// Sets where this process trains (the CLI's `--device`; default the CPU). Training
/// ([`crate::train::train`]) runs there; its trained network comes back on the CPU, where the
/// analog drift evaluation and everything after it run.
pub fn set_compute_device(device: ComputeDevice) -> crate::error::Result<()> {
    let d = device.device()?;
    if device != ComputeDevice::Cpu {
        probe(&d).map_err(|why| crate::error::Error::input(format!("--device {device}: {why}")))?;
    }
    *COMPUTE.write().unwrap_or_else(|e| e.into_inner()) = device;
    Ok(())
}

/// Whether a tensor can be made and read back on `device` (burn panics when a GPU backend
/// finds no adapter; the panic is caught and its message returned, the default panic message
/// silenced meanwhile).
fn probe(device: &Device) -> std::result::Result<(), String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let got = std::panic::catch_unwind(|| {
        burn::tensor::Tensor::<1>::ones([4], device)
            .sum()
            .into_scalar::<f32>()
    });
    std::panic::set_hook(hook);
    match got {
        Ok(4.0) => Ok(()),
        Ok(v) => Err(format!("the device computed 1+1+1+1 = {v}")),
        Err(e) => Err(format!(
            "the GPU backend did not start ({})",
            e.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| e.downcast_ref::<&str>().copied())
                .unwrap_or("panic")
                .lines()
                .next()
                .unwrap_or("")
        )),
    }
}

/// The device set by [`set_compute_device`].
pub fn compute_device() -> ComputeDevice {
    *COMPUTE.read().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_flags_parse() {
        assert_eq!("cpu".parse::<ComputeDevice>().unwrap(), ComputeDevice::Cpu);
        assert_eq!(
            "gpu".parse::<ComputeDevice>().unwrap(),
            ComputeDevice::Gpu(0)
        );
        assert_eq!(
            "gpu:2".parse::<ComputeDevice>().unwrap(),
            ComputeDevice::Gpu(2)
        );
        assert_eq!(ComputeDevice::Gpu(2).to_string(), "gpu:2");
        for bad in ["tpu", "gpu:", "gpu:x", "gpu:-1"] {
            let e = bad.parse::<ComputeDevice>().unwrap_err().to_string();
            assert!(e.starts_with("--device: expected cpu, gpu or gpu:N"), "{e}");
        }
        #[cfg(not(feature = "gpu"))]
        assert!(
            ComputeDevice::Gpu(0)
                .device()
                .unwrap_err()
                .to_string()
                .contains("--features gpu")
        );
        assert_eq!(ComputeDevice::Cpu.device().unwrap(), Device::flex());
    }
}
