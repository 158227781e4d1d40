//! The tasks analognas searches for (DESIGN.md 4b): their input shapes and classes.

use serde::{Deserialize, Serialize};

/// A classification task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// 8x8 handwritten digits shipped in smartcore (the default; no download).
    Digits,
    /// MNIST IDX files (28x28).
    Mnist,
    /// CIFAR-10 binary batches (3x32x32).
    Cifar10,
    /// Google Speech Commands keyword spotting, 49x10 MFCC features, 12 classes.
    Kws,
    /// Visual Wake Words, 96x96 RGB, person / non-person.
    Vww,
}

impl Task {
    /// Input shape `[channels, height, width]`.
    pub fn input_shape(self) -> [usize; 3] {
        match self {
            Task::Digits => [1, 8, 8],
            Task::Mnist => [1, 28, 28],
            Task::Cifar10 => [3, 32, 32],
            Task::Kws => [1, 49, 10],
            Task::Vww => [3, 96, 96],
        }
    }

    /// Number of classes.
    pub fn classes(self) -> usize {
        match self {
            Task::Kws => 12,
            Task::Vww => 2,
            _ => 10,
        }
    }

    /// Every task.
    pub const ALL: [Task; 5] = [
        Task::Digits,
        Task::Mnist,
        Task::Cifar10,
        Task::Kws,
        Task::Vww,
    ];

    /// The task with this input shape and number of classes, if any.
    pub fn for_shape(input: [usize; 3], classes: usize) -> Option<Task> {
        Task::ALL
            .into_iter()
            .find(|t| t.input_shape() == input && t.classes() == classes)
    }

    /// The task's name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Task::Digits => "digits",
            Task::Mnist => "mnist",
            Task::Cifar10 => "cifar10",
            Task::Kws => "kws",
            Task::Vww => "vww",
        }
    }
}

impl crate::choice::Choice for Task {
    const ALL: &'static [Self] = &[
        Task::Digits,
        Task::Mnist,
        Task::Cifar10,
        Task::Kws,
        Task::Vww,
    ];
    fn name(self) -> &'static str {
        Task::name(self)
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
