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
