//! An architecture: a genome on a task's input shape with a number of classes, and the list of
//! analog layers it is made of (shapes, parameters, multiply-accumulates).

use super::ArchError;
use crate::error::{FieldError, Result};
use crate::space::{ConvType, Downsample, Genome, MainBlock};
use crate::task::Task;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A genome bound to an input shape and a number of classes: everything needed to build a network.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Arch {
    /// The macro-architecture.
    pub genome: Genome,
    /// Input shape `[channels, height, width]`.
    pub input: [usize; 3],
    /// Number of classes of the linear head.
    pub classes: usize,
}

/// The built-in reference networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reference {
    /// MLPerf Tiny image-classification ResNet-8 (16/32/64 channels, one residual block each).
    Resnet8,
    /// CIFAR ResNet-20 (3 residual blocks per stage).
    Resnet20,
    /// CIFAR ResNet-32 (5 residual blocks per stage).
    Resnet32,
}

impl Reference {
    /// All reference networks.
    pub const ALL: [Reference; 3] = [Reference::Resnet8, Reference::Resnet20, Reference::Resnet32];

    /// The genome of the reference network (DESIGN.md 2.2).
    pub fn genome(self) -> Genome {
        let r = match self {
            Reference::Resnet8 => 1,
            Reference::Resnet20 => 3,
            Reference::Resnet32 => 5,
        };
        Genome {
            oc0: 16,
            ks0: 3,
            blocks: [1, 2, 4]
                .into_iter()
                .map(|wf| MainBlock {
                    r,
                    b: 1,
                    ct: ConvType::A,
                    wf,
                })
                .collect(),
            downsample: Downsample::AllButFirst,
            hardware: None,
        }
    }

    /// The name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Reference::Resnet8 => "resnet8",
            Reference::Resnet20 => "resnet20",
            Reference::Resnet32 => "resnet32",
        }
    }
}

impl crate::choice::Choice for Reference {
    const ALL: &'static [Self] = &Reference::ALL;
    fn name(self) -> &'static str {
        Reference::name(self)
    }
}

/// What a layer computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// 2-D convolution (bias-free, followed by batch norm).
    Conv,
    /// Fully connected layer with a digital bias.
    Linear,
}

/// Shape of one analog layer (a conv or the linear head).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerShape {
    /// Dotted name, e.g. `stem`, `b1.r0.br0.conv1`, `b2.r0.shortcut`, `head`.
    pub name: String,
    /// Conv or linear.
    pub kind: LayerKind,
    /// Input channels (features for the linear head).
    pub c_in: usize,
    /// Output channels (classes for the head).
    pub c_out: usize,
    /// Kernel size (1 for linear).
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Padding on each side.
    pub padding: usize,
    /// Groups (c_in for depthwise).
    pub groups: usize,
    /// Input spatial size `[h, w]`.
    pub in_hw: [usize; 2],
    /// Output spatial size `[h, w]`.
    pub out_hw: [usize; 2],
}

impl LayerShape {
    fn conv(
        name: String,
        c_in: usize,
        c_out: usize,
        k: usize,
        stride: usize,
        groups: usize,
        in_hw: [usize; 2],
    ) -> Self {
        let padding = k / 2;
        let out = |x: usize| (x + 2 * padding - k) / stride + 1;
        LayerShape {
            name,
            kind: LayerKind::Conv,
            c_in,
            c_out,
            k,
            stride,
            padding,
            groups,
            in_hw,
            out_hw: [out(in_hw[0]), out(in_hw[1])],
        }
    }

    /// Rows of the layer's weight matrix (inputs): `c_in/groups * k * k`.
    pub fn rows(&self) -> usize {
        self.c_in / self.groups * self.k * self.k
    }

    /// Weight count (without bias or batch norm).
    pub fn weights(&self) -> usize {
        self.rows() * self.c_out
    }

    /// Trainable parameters: weights plus the batch norm's gamma and beta (convs) or the bias (linear).
    pub fn params(&self) -> usize {
        self.weights()
            + match self.kind {
                LayerKind::Conv => 2 * self.c_out,
                LayerKind::Linear => self.c_out,
            }
    }

    /// Multiply-accumulates for one input.
    pub fn macs(&self) -> usize {
        self.weights() * self.out_hw[0] * self.out_hw[1]
    }

    /// Whether the layer is a depthwise convolution.
    pub fn is_depthwise(&self) -> bool {
        self.groups > 1 && self.groups == self.c_in
    }
}

/// Layers of one branch or shortcut, as built: the convs in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockPlan {
    /// Each branch's convs (ReLU between them, BN after each).
    pub branches: Vec<Vec<LayerShape>>,
    /// The projection shortcut, when the block changes shape.
    pub shortcut: Option<LayerShape>,
}

/// The whole layer plan of a network: what the builder builds and the tile mapper maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkPlan {
    /// Stem conv.
    pub stem: LayerShape,
    /// Residual blocks in order (main blocks flattened).
    pub blocks: Vec<BlockPlan>,
    /// Linear head.
    pub head: LayerShape,
}

impl NetworkPlan {
    /// Every analog layer in forward order.
    pub fn layers(&self) -> Vec<&LayerShape> {
        let mut v = vec![&self.stem];
        for b in &self.blocks {
            for br in &b.branches {
                v.extend(br.iter());
            }
            v.extend(b.shortcut.iter());
        }
        v.push(&self.head);
        v
    }
}

impl Arch {
    /// The genome on a task's input shape and classes.
    pub fn for_task(genome: Genome, task: Task) -> Self {
        Arch {
            genome,
            input: task.input_shape(),
            classes: task.classes(),
        }
    }

    /// A small network of the default space, `oc0=16 ks0=3 | r1b1Aw1 r1b1Cw2` (7 tiles on
    /// 512x512), used by the training benchmark, tests and examples.
    pub fn small_example(task: Task) -> Self {
        let genome = Genome {
            oc0: 16,
            ks0: 3,
            blocks: vec![
                MainBlock {
                    r: 1,
                    b: 1,
                    ct: ConvType::A,
                    wf: 1,
                },
                MainBlock {
                    r: 1,
                    b: 1,
                    ct: ConvType::C,
                    wf: 2,
                },
            ],
            downsample: Downsample::LastTwo,
            hardware: None,
        };
        Arch::for_task(genome, task)
    }

    /// Most input channels an architecture may take.
    pub const MAX_INPUT_CHANNELS: usize = 1024;
    /// Largest input height or width.
    pub const MAX_INPUT_SIZE: usize = 4096;
    /// Most classes of the head.
    pub const MAX_CLASSES: usize = 65536;

    /// Reads a genome or architecture JSON file. A bare genome takes `task`'s shape and classes.
    pub fn load(path: impl AsRef<Path>, task: Task) -> Result<Self> {
        Ok(Self::read(path, task)?)
    }

    /// Parses a genome or architecture JSON; `file` names it in errors.
    pub fn parse(file: &str, text: &str, task: Task) -> Result<Self> {
        Ok(Self::from_json(file, text, task)?)
    }

    /// [`Arch::load`] with the module's own error type.
    pub fn read(path: impl AsRef<Path>, task: Task) -> Result<Self, ArchError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ArchError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&path.display().to_string(), &text, task)
    }

    /// [`Arch::parse`] with the module's own error type. The genes are checked against the
    /// absolute limits ([`Genome::check`]) and the shape against [`Arch::check`] before anything
    /// is built, so a file cannot ask for an absurd plan or network.
    pub fn from_json(file: &str, text: &str, task: Task) -> Result<Self, ArchError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ArchError::json(file, &e))?;
        if value.get("genome").is_some() {
            let arch: Arch = serde_json::from_str(text).map_err(|e| ArchError::json(file, &e))?;
            arch.check(file)?;
            Ok(arch)
        } else {
            let genome: Genome =
                serde_json::from_str(text).map_err(|e| ArchError::json(file, &e))?;
            let arch = Arch::for_task(genome, task);
            arch.check_with(file, "")?;
            Ok(arch)
        }
    }

    /// Checks that the architecture can be built (see [`Arch::check`]).
    pub fn validate(&self, file: &str) -> Result<()> {
        Ok(self.check(file)?)
    }

    /// Checks the genes against the absolute limits ([`Genome::check`], fields named
    /// `genome.oc0`, `genome.blocks[i].r`, ...), the input shape against
    /// [`Arch::MAX_INPUT_CHANNELS`] and [`Arch::MAX_INPUT_SIZE`], and the classes against
    /// 2..=[`Arch::MAX_CLASSES`]. `file` names the source in the error.
    pub fn check(&self, file: &str) -> Result<(), ArchError> {
        self.check_with(file, "genome.")
    }

    fn check_with(&self, file: &str, genome_prefix: &str) -> Result<(), ArchError> {
        self.genome.check_fields(file, genome_prefix)?;
        let [c, h, w] = self.input;
        let (max_c, max_hw) = (Self::MAX_INPUT_CHANNELS, Self::MAX_INPUT_SIZE);
        if !(1..=max_c).contains(&c) || !(1..=max_hw).contains(&h) || !(1..=max_hw).contains(&w) {
            return Err(ArchError::Field(FieldError::new(
                file,
                "input",
                format!(
                    "[channels, height, width] with channels in 1..={max_c} and sides in 1..={max_hw}"
                ),
                format!("{:?}", self.input),
            )));
        }
        if !(2..=Self::MAX_CLASSES).contains(&self.classes) {
            return Err(ArchError::Field(FieldError::new(
                file,
                "classes",
                format!("an integer in 2..={}", Self::MAX_CLASSES),
                self.classes,
            )));
        }
        Ok(())
    }

    /// The layer plan (DESIGN.md 2.2).
    pub fn plan(&self) -> NetworkPlan {
        let g = &self.genome;
        let [c0, h, w] = self.input;
        let ks0 = g.ks0 as usize;
        let stem = LayerShape::conv("stem".into(), c0, g.oc0 as usize, ks0, 1, 1, [h, w]);
        let mut c = g.oc0 as usize;
        let mut hw = stem.out_hw;
        let mut blocks = Vec::new();
        let m = g.m();
        for (i, mb) in g.blocks.iter().enumerate() {
            let width = g.oc0 as usize * mb.wf as usize;
            for j in 0..mb.r as usize {
                let stride = if j == 0 && g.downsample.downsamples(i, m) {
                    2
                } else {
                    1
                };
                let prefix = format!("b{}.r{j}", i + 1);
                let branches: Vec<Vec<LayerShape>> = (0..mb.b as usize)
                    .map(|k| branch_layers(&format!("{prefix}.br{k}"), mb.ct, c, width, stride, hw))
                    .collect();
                let out_hw = branches[0].last().expect("a branch has convs").out_hw;
                let shortcut = (stride != 1 || c != width).then(|| {
                    LayerShape::conv(format!("{prefix}.shortcut"), c, width, 1, stride, 1, hw)
                });
                blocks.push(BlockPlan { branches, shortcut });
                c = width;
                hw = out_hw;
            }
        }
        let head = LayerShape {
            name: "head".into(),
            kind: LayerKind::Linear,
            c_in: c,
            c_out: self.classes,
            k: 1,
            stride: 1,
            padding: 0,
            groups: 1,
            in_hw: [1, 1],
            out_hw: [1, 1],
        };
        NetworkPlan { stem, blocks, head }
    }

    /// Trainable parameters (weights, batch-norm scale and shift, head bias).
    pub fn params(&self) -> usize {
        self.plan().layers().iter().map(|l| l.params()).sum()
    }

    /// Multiply-accumulates of one forward pass on one input (analog layers only).
    pub fn macs(&self) -> usize {
        self.plan().layers().iter().map(|l| l.macs()).sum()
    }

    /// Depth: the longest chain of analog layers from input to output.
    pub fn depth(&self) -> usize {
        let plan = self.plan();
        2 + plan
            .blocks
            .iter()
            .map(|b| b.branches.iter().map(Vec::len).max().unwrap_or(0))
            .sum::<usize>()
    }

    /// Sum of the widths of the main blocks (a derived surrogate feature).
    pub fn total_width(&self) -> usize {
        self.genome
            .blocks
            .iter()
            .map(|b| (self.genome.oc0 * b.wf) as usize)
            .sum()
    }
}

/// The convs of one branch of type `ct` from `c_in` to `c` channels.
fn branch_layers(
    prefix: &str,
    ct: ConvType,
    c_in: usize,
    c: usize,
    stride: usize,
    hw: [usize; 2],
) -> Vec<LayerShape> {
    let mut out: Vec<LayerShape> = Vec::new();
    let mut push = |c_in: usize, c_out: usize, k: usize, stride: usize, groups: usize| {
        let in_hw = out.last().map_or(hw, |l| l.out_hw);
        let name = format!("{prefix}.conv{}", out.len());
        out.push(LayerShape::conv(
            name, c_in, c_out, k, stride, groups, in_hw,
        ));
    };
    match ct {
        ConvType::A => {
            push(c_in, c, 3, stride, 1);
            push(c, c, 3, 1, 1);
        }
        ConvType::B => {
            let mid = (c / 4).max(1);
            push(c_in, mid, 1, 1, 1);
            push(mid, mid, 3, stride, 1);
            push(mid, c, 1, 1, 1);
        }
        ConvType::C => push(c_in, c, 3, stride, 1),
        ConvType::D => {
            push(c_in, c_in, 3, stride, c_in);
            push(c_in, c, 1, 1, 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resnet_parameter_counts_by_hand() {
        // ResNet-20 with 1x1 projection shortcuts, on CIFAR-10.
        // stem 3*9*16 + BN 32 = 464
        // stage 1: 6 convs 16*9*16 + BN 32 = 6 * 2336 = 14016
        // stage 2: 16*9*32 + 64 = 4672; 5 convs 32*9*32 + 64 = 5 * 9280 = 46400; proj 16*32 + 64 = 576
        // stage 3: 32*9*64 + 128 = 18560; 5 convs 64*9*64 + 128 = 5 * 36992 = 184960; proj 32*64 + 128 = 2176
        // head 64*10 + 10 = 650
        let r20 = Arch::for_task(Reference::Resnet20.genome(), Task::Cifar10);
        let expect20 = 464 + 14016 + 4672 + 46400 + 576 + 18560 + 184960 + 2176 + 650;
        assert_eq!(r20.params(), expect20);
        assert_eq!(expect20, 272_474);
        // ResNet-32 adds 2 residual blocks (4 convs) per stage.
        let r32 = Arch::for_task(Reference::Resnet32.genome(), Task::Cifar10);
        assert_eq!(r32.params(), expect20 + 4 * (2336 + 9280 + 36992));
        assert_eq!(r32.params(), 466_906);
        assert_eq!(r20.plan().layers().len(), 22);
        // ResNet-20 MACs: about 41 M on CIFAR-10.
        assert!(
            (40_000_000..42_000_000).contains(&r20.macs()),
            "{}",
            r20.macs()
        );
    }

    #[test]
    fn downsampling_halves_the_map() {
        let r8 = Arch::for_task(Reference::Resnet8.genome(), Task::Cifar10);
        let plan = r8.plan();
        let outs: Vec<[usize; 2]> = plan
            .blocks
            .iter()
            .map(|b| b.branches[0].last().unwrap().out_hw)
            .collect();
        assert_eq!(outs, vec![[32, 32], [16, 16], [8, 8]]);
        assert!(plan.blocks[0].shortcut.is_none());
        assert!(plan.blocks[1].shortcut.is_some());
    }

    #[test]
    fn parse_genome_or_arch_json() {
        let g = Reference::Resnet8.genome();
        let a = Arch::parse("g.json", &g.canonical_json(), Task::Digits).unwrap();
        assert_eq!(a.input, [1, 8, 8]);
        let text = serde_json::to_string(&Arch::for_task(g, Task::Kws)).unwrap();
        let b = Arch::parse("a.json", &text, Task::Digits).unwrap();
        assert_eq!((b.input, b.classes), ([1, 49, 10], 12));
        let e = Arch::parse("x.json", "{\"oc0\": 0", Task::Digits)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.json:1:"), "{e}");
        let e = Arch::parse(
            "x.json",
            "{\"oc0\": 0, \"ks0\": 3, \"blocks\": []}",
            Task::Digits,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "x.json: field oc0: expected an integer in 1..=4096, got 0"
        );
    }

    /// A genome with every gene at 4294967295 made `footprint --arch` abort on a 103 GB
    /// allocation; it is refused at parse time with the gene named.
    #[test]
    fn genomes_are_checked_against_the_limits_before_building() {
        let big = u32::MAX;
        let block = format!("{{\"r\": {big}, \"b\": {big}, \"ct\": \"A\", \"wf\": {big}}}");
        let all_max =
            format!("{{\"oc0\": {big}, \"ks0\": {big}, \"blocks\": [{block}, {block}, {block}]}}");
        let e = Arch::parse("g.json", &all_max, Task::Digits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "g.json: field oc0: expected an integer in 1..=4096, got 4294967295"
        );
        assert!(
            matches!(&e, crate::Error::Arch(a) if matches!(&**a, ArchError::Genome(g) if matches!(**g, crate::space::SpaceError::Gene(_)))),
            "{e:?}"
        );
        let g = Reference::Resnet8.genome();
        let mut json: serde_json::Value = serde_json::to_value(&g).unwrap();
        json["blocks"][2]["r"] = 65.into();
        let e = Arch::parse("g.json", &json.to_string(), Task::Digits)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "g.json: field blocks[2].r: expected an integer in 1..=64, got 65"
        );
        let mut arch = serde_json::to_value(Arch::for_task(g.clone(), Task::Cifar10)).unwrap();
        arch["genome"]["ks0"] = 13.into();
        let e = Arch::parse("a.json", &arch.to_string(), Task::Digits)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "a.json: field genome.ks0: expected an odd integer in 1..=11, got 13"
        );
        arch["genome"]["ks0"] = 3.into();
        arch["input"] = serde_json::json!([3, 32, 1000000]);
        let e = Arch::parse("a.json", &arch.to_string(), Task::Digits)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("a.json: field input: expected "), "{e}");
        assert!(e.ends_with("got [3, 32, 1000000]"), "{e}");
        arch["input"] = serde_json::json!([3, 32, 32]);
        arch["classes"] = 1.into();
        let e = Arch::parse("a.json", &arch.to_string(), Task::Digits)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "a.json: field classes: expected an integer in 2..=65536, got 1"
        );
        // A gene that does not fit a u32 is a JSON error at its position.
        let e = Arch::parse(
            "g.json",
            "{\"oc0\": 4294967296, \"ks0\": 3, \"blocks\": []}",
            Task::Digits,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("g.json:1:18: invalid value: integer `4294967296`"),
            "{e}"
        );
        assert!(!e.contains(" at line "), "{e}");
        let e = Arch::read("/nonexistent/g.json", Task::Digits).unwrap_err();
        assert!(matches!(e, ArchError::Io { .. }), "{e:?}");
    }
}
