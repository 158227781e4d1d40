//! First-order energy, latency and area of one inference on the chip a profile describes
//! (issue 17; README "Energy, latency and area").
//!
//! Per analog layer with `P` output positions, mapped as a `rows x cols` matrix on tiles of
//! `R x C` split into `nr = ceil(rows/R)` row and `nc = ceil(cols/C)` column pieces:
//!
//! - tile MVMs: `nr * nc * P`; every piece has its own tile, so one position takes one MVM
//!   time `t_mvm` and the layer's analog time is `P * t_mvm`;
//! - array energy: `e_cell * weights * P` (a cell without a weight is at g = 0 and draws no
//!   current);
//! - DAC conversions: `rows * nc * P` (each column piece has its own row drivers), each
//!   `e_dac_step * 2^dac_bits`;
//! - ADC conversions: `cols * nr * P` (each row piece converts its partial sums), each
//!   `e_adc_step * 2^adc_bits` (Walden figure of merit);
//! - digital work, `e_add` per add/compare and `e_mul` per multiply: the sum of the row
//!   pieces `(nr - 1) * cols * P` adds, noise management (abs-max: `rows * P` compares; the
//!   scale back: `cols * P` multiplies), batch norm `cols * P` multiplies and adds, ReLU
//!   `cols * P` compares where one follows; activations read once and written once from
//!   SRAM at `e_sram` per byte (8-bit activations).
//!
//! Digital layers: a depthwise conv on a profile that runs it digitally costs `macs`
//! multiplies and adds; each residual block adds its `b` branches and shortcut (`b` adds per
//! output element) and applies ReLU; the head's global average pooling adds every element and
//! scales each channel. Digital time is `ops / digital_ops_per_ns`.
//!
//! Schedules: *sequential* runs the layers one after another (latency = the sum of the
//! layers' times); *pipelined* runs every layer on its own tiles at once on successive inputs,
//! so one inference leaves the pipeline every `max` layer time (the initiation interval,
//! reported as the pipelined latency per inference; its inverse is the throughput).
//! Area: `tiles * tile_area_mm2`.

use super::{HwError, HwProfile, layer_footprint};
use crate::error::FieldError;
use crate::nn::{Arch, LayerKind, LayerShape};
use serde::{Deserialize, Serialize};

/// The `[cost]` section of a hardware profile: the constants of the cost model. Every field
/// has a range checked at load; the shipped profiles name each value's source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostConfig {
    /// Time of one tile MVM (integration and conversion), ns. Range: > 0 and <= 1e6.
    /// Default: 133 (HERMES, one-phase read: 63.1 TOPS over 64 cores of 256x256).
    pub mvm_ns: f64,
    /// Array energy per weight cell per MVM, fJ (drivers, integrators and local control
    /// included; the converters are counted apart). Range: [0, 1e6]. Default: 194.
    pub array_fj_per_cell: f64,
    /// ADC energy per conversion step (Walden FOM), fJ: one conversion costs
    /// `adc_fj_per_step * 2^bits`. Range: [0, 1e6]. Default: 10.
    pub adc_fj_per_step: f64,
    /// DAC (row driver) energy per conversion step, fJ: one input costs
    /// `dac_fj_per_step * 2^bits`. Range: [0, 1e6]. Default: 1.
    pub dac_fj_per_step: f64,
    /// Energy of one digital add or compare, fJ. Range: [0, 1e6]. Default: 400 (FP16 add).
    pub digital_add_fj: f64,
    /// Energy of one digital multiply, fJ. Range: [0, 1e6]. Default: 1100 (FP16 multiply).
    pub digital_mul_fj: f64,
    /// SRAM access energy per byte of activation, fJ. Range: [0, 1e6]. Default: 1250.
    pub sram_fj_per_byte: f64,
    /// Digital operations per ns of the digital units serving a layer. Range: > 0 and
    /// <= 1e6. Default: 64.
    pub digital_ops_per_ns: f64,
    /// Silicon area of one tile with its periphery, mm^2. Range: > 0 and <= 1e4.
    /// Default: 2.48 (a HERMES core scaled to 512x512 cells).
    pub tile_area_mm2: f64,
    /// Resolution at which a converter without quantisation (`inp_res` or `out_res` = 0) is
    /// costed, bits. Range: 1..=24. Default: 8.
    pub unquantised_bits: u32,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            mvm_ns: 133.0,
            array_fj_per_cell: 194.0,
            adc_fj_per_step: 10.0,
            dac_fj_per_step: 1.0,
            digital_add_fj: 400.0,
            digital_mul_fj: 1100.0,
            sram_fj_per_byte: 1250.0,
            digital_ops_per_ns: 64.0,
            tile_area_mm2: 2.48,
            unquantised_bits: 8,
        }
    }
}

impl CostConfig {
    /// Checks every field against its range; errors name `file` and `cost.<field>`.
    pub fn check(&self, file: &str) -> Result<(), HwError> {
        let bad = |field: &str, expected: &str, got: String| {
            Err(HwError::Field(FieldError::new(
                file,
                format!("cost.{field}"),
                expected,
                got,
            )))
        };
        let positive = [
            ("mvm_ns", self.mvm_ns, 1e6),
            ("digital_ops_per_ns", self.digital_ops_per_ns, 1e6),
            ("tile_area_mm2", self.tile_area_mm2, 1e4),
        ];
        for (key, v, hi) in positive {
            if !(v > 0.0 && v <= hi) {
                return bad(
                    key,
                    &format!("a number > 0 and <= {hi:e}"),
                    format!("{v:?}"),
                );
            }
        }
        let energies = [
            ("array_fj_per_cell", self.array_fj_per_cell),
            ("adc_fj_per_step", self.adc_fj_per_step),
            ("dac_fj_per_step", self.dac_fj_per_step),
            ("digital_add_fj", self.digital_add_fj),
            ("digital_mul_fj", self.digital_mul_fj),
            ("sram_fj_per_byte", self.sram_fj_per_byte),
        ];
        for (key, v) in energies {
            if !(0.0..=1e6).contains(&v) {
                return bad(key, "a number of fJ in [0, 1e6]", format!("{v:?}"));
            }
        }
        if !(1..=24).contains(&self.unquantised_bits) {
            return bad(
                "unquantised_bits",
                "an integer in 1..=24",
                self.unquantised_bits.to_string(),
            );
        }
        Ok(())
    }
}

/// Bits of a converter of resolution `res` (a fraction of the range; `1/(2^b - 2)` is `b`
/// bits: 1/254 is 8 bits, 1/126 is 7, 1/510 is 9); `None` when it does not quantise.
pub fn converter_bits(res: f64) -> Option<u32> {
    (res > 0.0).then(|| ((1.0 / res + 1.0).log2() - 1e-9).ceil().max(1.0) as u32)
}

/// Energy of one inference split by where it is spent, nJ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergySplit {
    /// Crossbar arrays.
    pub array: f64,
    /// DACs (row drivers).
    pub dac: f64,
    /// ADCs.
    pub adc: f64,
    /// Digital arithmetic.
    pub digital: f64,
    /// SRAM traffic of activations.
    pub sram: f64,
}

impl EnergySplit {
    /// The sum, nJ.
    pub fn total(&self) -> f64 {
        self.array + self.dac + self.adc + self.digital + self.sram
    }

    fn add(&mut self, o: &EnergySplit) {
        self.array += o.array;
        self.dac += o.dac;
        self.adc += o.adc;
        self.digital += o.digital;
        self.sram += o.sram;
    }
}

/// Latency of one inference under the two schedules, us.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Layers one after another: the sum of the layer times.
    pub sequential: f64,
    /// Layers pipelined on their own tiles: the slowest layer's time (initiation interval).
    pub pipelined: f64,
}

/// Cost of one layer (an analog or digital conv or linear layer, a residual add or the
/// pooling) per inference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerCost {
    /// Layer name (`b1.r0.add` for a block's residual sum, `pool` for the global pooling).
    pub name: String,
    /// `analog` or `digital`.
    pub kind: String,
    /// Output positions.
    pub positions: usize,
    /// Tile MVMs.
    pub mvms: u64,
    /// DAC conversions.
    pub dac_conversions: u64,
    /// ADC conversions.
    pub adc_conversions: u64,
    /// Digital adds and compares.
    pub digital_adds: u64,
    /// Digital multiplies.
    pub digital_muls: u64,
    /// Energy, nJ.
    pub energy_nj: f64,
    /// Energy by component, nJ.
    pub energy_split_nj: EnergySplit,
    /// Time of the layer, us.
    pub latency_us: f64,
}

/// Energy, latency and area of one inference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Energy per inference, nJ.
    pub energy_nj: f64,
    /// Energy by component, nJ.
    pub energy_split_nj: EnergySplit,
    /// Latency per inference, us.
    pub latency_us: Latency,
    /// Tile area, mm^2.
    pub area_mm2: f64,
    /// Inferences per second with the pipelined schedule.
    pub inferences_per_s: f64,
    /// Inferences per second per watt (`1 / energy`, whatever the schedule).
    pub inferences_per_s_per_w: f64,
    /// DAC and ADC bits costed.
    pub dac_bits: u32,
    /// ADC bits costed.
    pub adc_bits: u32,
    /// Per layer, in forward order (residual adds after their block, pooling before the head).
    pub layers: Vec<LayerCost>,
}

struct Ctx<'a> {
    c: &'a CostConfig,
    e_dac: f64,
    e_adc: f64,
}

#[derive(Default)]
struct Counts {
    positions: usize,
    mvms: u64,
    dac: u64,
    adc: u64,
    adds: u64,
    muls: u64,
    cells: u64,
    sram_bytes: u64,
    analog_ns: f64,
}

impl Ctx<'_> {
    fn finish(&self, name: &str, analog: bool, n: Counts) -> LayerCost {
        let c = self.c;
        let fj = |v: f64| v * 1e-6;
        let split = EnergySplit {
            array: fj(n.cells as f64 * c.array_fj_per_cell),
            dac: fj(n.dac as f64 * self.e_dac),
            adc: fj(n.adc as f64 * self.e_adc),
            digital: fj(n.adds as f64 * c.digital_add_fj + n.muls as f64 * c.digital_mul_fj),
            sram: fj(n.sram_bytes as f64 * c.sram_fj_per_byte),
        };
        let digital_ns = (n.adds + n.muls) as f64 / c.digital_ops_per_ns;
        LayerCost {
            name: name.to_string(),
            kind: if analog { "analog" } else { "digital" }.into(),
            positions: n.positions,
            mvms: n.mvms,
            dac_conversions: n.dac,
            adc_conversions: n.adc,
            digital_adds: n.adds,
            digital_muls: n.muls,
            energy_nj: split.total(),
            energy_split_nj: split,
            latency_us: (n.analog_ns + digital_ns) * 1e-3,
        }
    }

    /// A conv or linear layer; `relu`: whether a ReLU follows it directly.
    fn layer(&self, l: &LayerShape, profile: &HwProfile, relu: bool) -> LayerCost {
        let f = layer_footprint(l, profile);
        let p = (l.out_hw[0] * l.out_hw[1]) as u64;
        let cols = l.c_out as u64;
        let mut n = Counts {
            positions: p as usize,
            sram_bytes: (l.c_in * l.in_hw[0] * l.in_hw[1]) as u64 + cols * p,
            ..Counts::default()
        };
        if f.digital {
            n.adds += l.macs() as u64;
            n.muls += l.macs() as u64;
        } else {
            let nr = f.rows.div_ceil(profile.tile.rows) as u64;
            let nc = f.cols.div_ceil(profile.tile.cols) as u64;
            let rows = f.rows as u64;
            n.mvms = nr * nc * p;
            n.dac = rows * nc * p;
            n.adc = cols * nr * p;
            n.cells = l.weights() as u64 * p;
            n.adds += (nr - 1) * cols * p + rows * p;
            n.muls += cols * p;
            n.analog_ns = p as f64 * self.c.mvm_ns;
        }
        match l.kind {
            LayerKind::Conv => {
                n.adds += cols * p;
                n.muls += cols * p;
            }
            LayerKind::Linear => n.adds += cols,
        }
        if relu {
            n.adds += cols * p;
        }
        self.finish(&l.name, !f.digital, n)
    }

    fn digital(&self, name: &str, adds: u64, muls: u64, bytes: u64) -> LayerCost {
        let n = Counts {
            positions: 0,
            adds,
            muls,
            sram_bytes: bytes,
            ..Counts::default()
        };
        self.finish(name, false, n)
    }
}

/// The cost of one inference of `arch` on `profile` (see the module docs for the formulas).
pub fn cost(arch: &Arch, profile: &HwProfile) -> Cost {
    let profile = &*profile.for_arch(arch);
    let c = &profile.cost;
    let bits = |res: f64| converter_bits(res).unwrap_or(c.unquantised_bits);
    let (dac_bits, adc_bits) = (
        bits(profile.periphery.inp_res),
        bits(profile.periphery.out_res),
    );
    let ctx = Ctx {
        c,
        e_dac: c.dac_fj_per_step * 2f64.powi(dac_bits as i32),
        e_adc: c.adc_fj_per_step * 2f64.powi(adc_bits as i32),
    };
    let plan = arch.plan();
    let mut layers = vec![ctx.layer(&plan.stem, profile, true)];
    let mut tiles = layer_footprint(&plan.stem, profile).tiles;
    for (bi, b) in plan.blocks.iter().enumerate() {
        for br in &b.branches {
            for (i, l) in br.iter().enumerate() {
                layers.push(ctx.layer(l, profile, i + 1 < br.len()));
                tiles += layer_footprint(l, profile).tiles;
            }
        }
        if let Some(s) = &b.shortcut {
            layers.push(ctx.layer(s, profile, false));
            tiles += layer_footprint(s, profile).tiles;
        }
        let last = b.branches[0].last().expect("a branch has convs");
        let el = (last.c_out * last.out_hw[0] * last.out_hw[1]) as u64;
        let nb = b.branches.len() as u64;
        // Name after the block: `b1.r0.br0.conv1` -> `b1.r0.add`.
        let name = last
            .name
            .rsplit_once(".br")
            .map_or_else(|| format!("block{bi}.add"), |(pre, _)| format!("{pre}.add"));
        // b adds (branches and shortcut) and a ReLU per element; reads b + 1 tensors, writes one.
        layers.push(ctx.digital(&name, nb * el + el, 0, (nb + 2) * el));
    }
    let h = &plan.head;
    let last_hw = plan.blocks.last().map_or(plan.stem.out_hw, |b| {
        b.branches[0].last().expect("convs").out_hw
    });
    let el = (h.c_in * last_hw[0] * last_hw[1]) as u64;
    // Head ReLU and the sum of every element, one scaling per channel.
    layers.push(ctx.digital("pool", 2 * el, h.c_in as u64, el + h.c_in as u64));
    layers.push(ctx.layer(h, profile, false));
    tiles += layer_footprint(h, profile).tiles;

    let mut split = EnergySplit::default();
    for l in &layers {
        split.add(&l.energy_split_nj);
    }
    let energy_nj = split.total();
    let sequential: f64 = layers.iter().map(|l| l.latency_us).sum();
    let pipelined = layers.iter().map(|l| l.latency_us).fold(0.0, f64::max);
    Cost {
        energy_nj,
        energy_split_nj: split,
        latency_us: Latency {
            sequential,
            pipelined,
        },
        area_mm2: tiles as f64 * c.tile_area_mm2,
        inferences_per_s: if pipelined > 0.0 {
            1e6 / pipelined
        } else {
            0.0
        },
        inferences_per_s_per_w: if energy_nj > 0.0 {
            1e9 / energy_nj
        } else {
            0.0
        },
        dac_bits,
        adc_bits,
        layers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Reference;
    use crate::task::Task;

    fn profile(name: &str) -> HwProfile {
        HwProfile::load(format!(
            "{}/hw_profiles/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn bits_of_resolutions() {
        assert_eq!(converter_bits(1.0 / 254.0), Some(8));
        assert_eq!(converter_bits(1.0 / 126.0), Some(7));
        assert_eq!(converter_bits(1.0 / 510.0), Some(9));
        assert_eq!(converter_bits(0.5), Some(2));
        assert_eq!(converter_bits(0.0), None);
    }

    #[test]
    fn full_tile_mvm_matches_the_hermes_figure() {
        // One 256x256 linear layer, 8-bit converters: array + converters of one MVM must give
        // back the chip's 9.76 TOPS/W (131072 ops in 13.43 nJ) within a percent.
        let p = profile("pcm_hermes");
        let c = &p.cost;
        let cells = 256.0 * 256.0;
        let e = cells * c.array_fj_per_cell
            + 256.0 * c.adc_fj_per_step * 256.0
            + 256.0 * c.dac_fj_per_step * 256.0;
        let tops_per_w = 2.0 * cells / (e * 1e-15) / 1e12;
        assert!((tops_per_w - 9.76).abs() < 0.1, "{tops_per_w}");
        assert!((2.0 * cells / (c.mvm_ns * 1e-9) * 64.0 / 1e12 - 63.1).abs() < 0.2);
    }

    #[test]
    fn counts_and_totals_are_consistent() {
        let p = profile("pcm_hermes");
        let a = Arch::for_task(Reference::Resnet32.genome(), Task::Cifar10);
        let c = cost(&a, &p);
        let f = crate::hw::footprint(&a, &p);
        assert!((c.area_mm2 - f.tiles as f64 * p.cost.tile_area_mm2).abs() < 1e-9);
        let sum: f64 = c.layers.iter().map(|l| l.energy_nj).sum();
        assert!((sum - c.energy_nj).abs() < 1e-6 * c.energy_nj);
        assert!(c.latency_us.pipelined < c.latency_us.sequential);
        // Every analog layer of the footprint appears, in order, among the cost layers.
        let analog: Vec<&str> = c
            .layers
            .iter()
            .filter(|l| l.kind == "analog")
            .map(|l| l.name.as_str())
            .collect();
        let fl: Vec<&str> = f.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(analog, fl);
        // The stem: 3x3x3 -> 16 at 32x32, one tile, 1024 MVMs.
        let stem = &c.layers[0];
        assert_eq!((stem.mvms, stem.dac_conversions), (1024, 27 * 1024));
        assert!(c.layers.iter().any(|l| l.name == "b1.r0.add"));
        // Array cells times positions are the MACs.
        let cells: f64 = c.energy_split_nj.array / (p.cost.array_fj_per_cell * 1e-6);
        assert!((cells - a.macs() as f64).abs() < 1.0);
        // Fewer ADC bits cost less.
        let mut q = p.clone();
        q.periphery.out_res = 1.0 / 126.0;
        assert!(cost(&a, &q).energy_split_nj.adc < c.energy_split_nj.adc / 1.9);
    }

    #[test]
    fn row_splits_add_adc_conversions_and_digital_sums() {
        let a = Arch::for_task(Reference::Resnet32.genome(), Task::Cifar10);
        let small = profile("pcm_hermes");
        let mut big = small.clone();
        (big.tile.rows, big.tile.cols) = (512, 512);
        let (cs, cb) = (cost(&a, &small), cost(&a, &big));
        // 3x3x64 = 576 rows: 3 row pieces at 256, 2 at 512.
        let find = |c: &Cost| {
            c.layers
                .iter()
                .find(|l| l.name == "b3.r1.br0.conv0")
                .unwrap()
                .clone()
        };
        let (ls, lb) = (find(&cs), find(&cb));
        assert_eq!(ls.adc_conversions, 64 * 3 * 64);
        assert_eq!(lb.adc_conversions, 64 * 2 * 64);
        assert!(ls.digital_adds > lb.digital_adds);
    }

    #[test]
    fn cost_fields_are_range_checked() {
        for (text, field) in [
            ("[cost]\nmvm_ns = 0", "cost.mvm_ns"),
            ("[cost]\narray_fj_per_cell = -1", "cost.array_fj_per_cell"),
            ("[cost]\nadc_fj_per_step = nan", "cost.adc_fj_per_step"),
            ("[cost]\ntile_area_mm2 = inf", "cost.tile_area_mm2"),
            ("[cost]\nunquantised_bits = 0", "cost.unquantised_bits"),
            ("[cost]\ndigital_ops_per_ns = 0", "cost.digital_ops_per_ns"),
        ] {
            let e = HwProfile::parse("p.toml", "p", text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("field {field}: expected ")), "{e}");
            assert!(e.starts_with("p.toml:2:"), "{e}");
        }
    }
}
