//! `analognas export --format pytorch|all`: model.safetensors holds exactly the burn record's
//! tensors under the generated module's names, and (when torch is importable) model.py
//! reproduces burn's logits.

use crate::util::*;
use analognas::nn::{ConvBn, Network};
use burn::tensor::Tensor;
use safetensors::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Every branch type, parallel branches, identity and projection shortcuts, stride 2 in the
/// last two main blocks, a 5x5 stem.
const GENOME: &str = r#"{"oc0":8,"ks0":5,"blocks":[{"r":2,"b":2,"ct":"A","wf":1},{"r":1,"b":1,"ct":"B","wf":2},{"r":1,"b":2,"ct":"D","wf":2},{"r":1,"b":1,"ct":"C","wf":3}],"downsample":"last_two"}"#;

/// One trained export shared by the tests of this file (training is the slow part).
fn exported() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = fresh_dir("torch-export");
        let g = dir.join("genome.json");
        std::fs::write(&g, GENOME).unwrap();
        let out = dir.join("found");
        let o = run(&[
            "export",
            "--arch",
            g.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--train",
            "--epochs",
            "1",
            "--reps",
            "1",
            "--seed",
            "3",
            "--test-set",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        out
    })
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Checks one tensor of the file against a burn tensor, bit for bit.
fn same<const D: usize>(st: &SafeTensors, name: &str, t: Tensor<D>, seen: &mut Vec<String>) {
    let view = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(view.dtype(), Dtype::F32, "{name}");
    assert_eq!(view.shape(), t.dims().as_slice(), "{name}");
    let want: Vec<u32> = t
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let got: Vec<u32> = f32s(view.data()).iter().map(|v| v.to_bits()).collect();
    assert_eq!(got, want, "{name} differs from the burn record");
    seen.push(name.to_string());
}

fn same_conv_bn(st: &SafeTensors, p: &str, l: &ConvBn, seen: &mut Vec<String>) {
    same(st, &format!("{p}.conv.weight"), l.conv.weight.val(), seen);
    same(st, &format!("{p}.bn.weight"), l.bn.gamma.val(), seen);
    same(st, &format!("{p}.bn.bias"), l.bn.beta.val(), seen);
    same(
        st,
        &format!("{p}.bn.running_mean"),
        l.bn.running_mean.value(),
        seen,
    );
    same(
        st,
        &format!("{p}.bn.running_var"),
        l.bn.running_var.value(),
        seen,
    );
}

#[test]
fn safetensors_equal_the_burn_record_bit_for_bit() {
    let out = exported();
    for f in [
        "arch.json",
        "genome.json",
        "export.json",
        "model.bpk",
        "metrics.json",
        "model.py",
        "aihwkit_model.py",
        "model.safetensors",
        "check.safetensors",
        "test.safetensors",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // The burn record, loaded verbatim into the network.
    let device = analognas::device::default_device();
    let model = analognas::model::TrainedModel::load(out, &device).unwrap();
    let net: &Network = &model.net;
    let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut seen = Vec::new();
    same_conv_bn(&st, "stem", &net.stem, &mut seen);
    assert_eq!(net.blocks.len(), 5);
    for (i, block) in net.blocks.iter().enumerate() {
        for (j, br) in block.branches.iter().enumerate() {
            for (k, l) in br.layers.iter().enumerate() {
                same_conv_bn(
                    &st,
                    &format!("blocks.{i}.branches.{j}.layers.{k}"),
                    l,
                    &mut seen,
                );
            }
        }
        if let Some(s) = &block.shortcut {
            same_conv_bn(&st, &format!("blocks.{i}.shortcut"), s, &mut seen);
        }
    }
    // torch.nn.Linear stores [out, in]; burn [in, out].
    same(
        &st,
        "head.weight",
        net.head.weight.val().transpose(),
        &mut seen,
    );
    same(
        &st,
        "head.bias",
        net.head.bias.as_ref().unwrap().val(),
        &mut seen,
    );
    // Nothing else in the file, and the running statistics are trained ones.
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    seen.sort();
    assert_eq!(names, seen);
    let var = f32s(st.tensor("stem.bn.running_var").unwrap().data());
    assert!(
        var.iter().any(|&v| v != 1.0),
        "running stats were not trained"
    );
    // Shortcuts where the shape changes only: block 0 keeps 8 channels at stride 1.
    assert!(net.blocks[0].shortcut.is_none() && net.blocks[1].shortcut.is_none());
    assert!(net.blocks[2].shortcut.is_some());
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], "pt");
    assert_eq!(meta["network"], model.arch.genome.id());

    // The check batch holds burn's logits, as export.json does.
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("export.json")).unwrap()).unwrap();
    let check = std::fs::read(out.join("check.safetensors")).unwrap();
    let check = SafeTensors::deserialize(&check).unwrap();
    let logits = f32s(check.tensor("logits").unwrap().data());
    let want: Vec<f32> = info["check_logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(logits, want);
    let x = f32s(check.tensor("input").unwrap().data());
    assert_eq!(model.digital_logits(&x, 8), want);
    // export.json describes the inputs and outputs.
    assert_eq!(info["input"], serde_json::json!([1, 8, 8]));
    assert_eq!(info["class_names"].as_array().unwrap().len(), 10);
    let norm = &info["normalisation"];
    assert!((norm["scale"].as_f64().unwrap() - 1.0 / 16.0).abs() < 1e-12);
    assert!(norm["std"][0].as_f64().unwrap() > 0.0);
    assert_eq!(info["profile"], "pcm_aihwkit");
    // The test split: all 360 test digits with their labels.
    let test = std::fs::read(out.join("test.safetensors")).unwrap();
    let test = SafeTensors::deserialize(&test).unwrap();
    assert_eq!(test.tensor("input").unwrap().shape(), &[360, 1, 8, 8]);
    assert_eq!(test.tensor("label").unwrap().dtype(), Dtype::I64);
    // aihwkit_model.py keeps the depthwise convs (block 3, both branches) digital.
    let aihwkit = std::fs::read_to_string(out.join("aihwkit_model.py")).unwrap();
    for n in [
        "\"blocks.3.branches.0.layers.0.conv\"",
        "\"blocks.3.branches.1.layers.0.conv\"",
    ] {
        assert!(aihwkit.contains(n), "{n}");
    }
    assert!(!aihwkit.contains("\"blocks.3.branches.0.layers.1.conv\""));
}

fn torch_available() -> bool {
    Command::new("python3")
        .args(["-c", "import torch"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn python(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("python3 runs")
}

#[test]
fn pytorch_module_reproduces_burn_logits() {
    if !torch_available() {
        eprintln!(
            "skipped: `python3 -c \"import torch\"` fails; install torch to compare model.py with burn"
        );
        return;
    }
    let out = exported();
    let o = python(out, &["model.py"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let diff = v["max_abs_logit_diff"].as_f64().unwrap();
    eprintln!("max |logit difference| burn vs PyTorch: {diff:e}");
    assert_eq!(v["samples"], 8);
    assert!(diff <= 1e-4, "PyTorch logits differ from burn's by {diff}");
    // The whole test split through PyTorch classifies as burn does (digital accuracy).
    let script = r#"
import json, model, torch
net = model.load()
t = model.read_safetensors("test.safetensors")
with torch.no_grad():
    pred = net(t["input"]).argmax(dim=1)
print(json.dumps({"acc": 100.0 * float((pred == t["label"]).float().mean())}))
"#;
    let o = python(out, &["-c", script]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let acc = v["acc"].as_f64().unwrap();
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let acc_fp = metrics["acc_fp"].as_f64().unwrap();
    assert!(
        (acc - acc_fp).abs() < 0.3,
        "PyTorch {acc} % vs burn {acc_fp} %"
    );
}

#[test]
fn format_burn_writes_no_pytorch_files_and_pytorch_no_record() {
    let dir = fresh_dir("torch-formats");
    let g = dir.join("genome.json");
    std::fs::write(&g, GENOME).unwrap();
    let out = dir.join("m");
    let export = |format: &str, train: bool| {
        let mut args = vec![
            "export",
            "--arch",
            g.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--format",
            format,
        ];
        if train {
            args.extend(["--train", "--epochs", "1", "--reps", "1"]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    // Untrained: the module definitions, no weights.
    export("all", false);
    assert!(out.join("model.py").is_file() && out.join("aihwkit_model.py").is_file());
    assert!(!out.join("model.safetensors").exists());
    export("burn", false);
    assert!(!out.join("model.py").exists(), "stale model.py left behind");
    export("pytorch", true);
    for f in [
        "model.py",
        "model.safetensors",
        "check.safetensors",
        "metrics.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(!out.join("model.bpk").exists());
    let o = run(&[
        "export",
        "--arch",
        g.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "onnx",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--format"), "{}", stderr(&o));
}

#[test]
fn aihwkit_conversion_runs_when_aihwkit_is_installed() {
    let ok = Command::new("python3")
        .args(["-c", "import torch, aihwkit"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!(
            "skipped: `python3 -c \"import aihwkit\"` fails; install aihwkit to run aihwkit_model.py"
        );
        return;
    }
    let out = exported();
    // Analog layers everywhere but the depthwise convs; one programming read at two times.
    let script = r#"
import importlib.util, json, warnings
warnings.simplefilter("ignore")
spec = importlib.util.spec_from_file_location("exported_aihwkit", "aihwkit_model.py")
a = importlib.util.module_from_spec(spec); spec.loader.exec_module(a)
from aihwkit.nn import AnalogConv2d, AnalogLinear
import torch
net = a.analog_model()
kinds = {n: type(m).__name__ for n, m in net.named_modules()}
t = a._model_module().read_safetensors("test.safetensors")
acc = a.accuracies(net, t["input"], t["label"], [1.0, 86400.0], reps=1)
print(json.dumps({"kinds": kinds, "acc": [acc[1.0][0], acc[86400.0][0]]}))
"#;
    let o = python(out, &["-c", script]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let kinds = &v["kinds"];
    // convert_to_analog wraps the root, so the names gain a "module." prefix or not; find both.
    let kind = |name: &str| {
        kinds
            .get(name)
            .or_else(|| kinds.get(format!("module.{name}")))
            .and_then(|k| k.as_str())
            .unwrap_or_else(|| panic!("{name} not in {kinds}"))
            .to_string()
    };
    assert_eq!(kind("stem.conv"), "AnalogConv2d");
    assert_eq!(kind("blocks.2.shortcut.conv"), "AnalogConv2d");
    assert_eq!(kind("blocks.3.branches.0.layers.0.conv"), "Conv2d");
    assert_eq!(kind("blocks.3.branches.0.layers.1.conv"), "AnalogConv2d");
    assert_eq!(kind("head"), "AnalogLinear");
    for a in v["acc"].as_array().unwrap() {
        assert!((0.0..=100.0).contains(&a.as_f64().unwrap()), "{a}");
    }
}
