//! Tree ensembles in a compact form of our own, converted from fitted smartcore models.
//!
//! smartcore's own `predict` copies each row once per tree through generic iterators (about
//! 0.5 us per tree), and its serialized forests run to megabytes. The converted ensemble walks
//! flat node arrays and predicts bit-for-bit what smartcore predicts (checked at conversion on the
//! training rows).

use super::SurrogateError;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smartcore::ensemble::random_forest_regressor::RandomForestRegressor;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::xgboost::XGRegressor;

/// One node, written `[feature, threshold, left, right]`: an internal node sends `x` to `left`
/// when `x[feature] <= threshold`, else to `right`; a leaf has `feature = -1` and holds its
/// value in `threshold`. Children always come after their parent.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node(pub i32, pub f64, pub u32, pub u32);

/// A regression tree as a flat node array, root first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tree {
    /// The nodes; the root is `nodes[0]`.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The value of the leaf that `x` reaches.
    #[inline]
    pub fn leaf(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            let Node(f, t, l, r) = self.nodes[i];
            if f < 0 {
                return t;
            }
            i = if x[f as usize] <= t { l } else { r } as usize;
        }
    }

    fn check(&self, n_features: usize) -> std::result::Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a tree without nodes".into());
        }
        for (i, &Node(f, t, l, r)) in self.nodes.iter().enumerate() {
            if !t.is_finite() {
                return Err(format!("node {i}: a non-finite value"));
            }
            if f < 0 {
                continue;
            }
            let (l, r) = (l as usize, r as usize);
            if f as usize >= n_features {
                return Err(format!("node {i}: feature {f} out of 0..{n_features}"));
            }
            if l <= i || r <= i || l >= self.nodes.len() || r >= self.nodes.len() {
                return Err(format!("node {i}: children {l}, {r} out of order"));
            }
        }
        Ok(())
    }
}

/// How the trees' leaves combine into a prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "combine", rename_all = "snake_case")]
pub enum Ensemble {
    /// Gradient boosting: `base + rate * leaf_1 + rate * leaf_2 + ...`, summed in tree order.
    Boosted {
        /// Starting score.
        base: f64,
        /// Learning rate.
        rate: f64,
        /// The boosting rounds in order.
        trees: Vec<Tree>,
    },
    /// Random forest: the mean of the trees' leaves.
    Mean {
        /// The trees.
        trees: Vec<Tree>,
    },
}

type Matrix = DenseMatrix<f64>;

impl Ensemble {
    /// The prediction for one feature vector.
    #[inline]
    pub fn predict(&self, x: &[f64]) -> f64 {
        match self {
            Ensemble::Boosted { base, rate, trees } => {
                let mut p = *base;
                for t in trees {
                    p += rate * t.leaf(x);
                }
                p
            }
            Ensemble::Mean { trees } => {
                let mut s = 0.0;
                for t in trees {
                    s += t.leaf(x);
                }
                s / trees.len() as f64
            }
        }
    }

    /// The trees.
    pub fn trees(&self) -> &[Tree] {
        match self {
            Ensemble::Boosted { trees, .. } | Ensemble::Mean { trees } => trees,
        }
    }

    /// Checks that every node is well formed for `n_features` features (so that prediction
    /// terminates and indexes in range); the message names the tree and node.
    pub fn check(&self, n_features: usize) -> std::result::Result<(), String> {
        if self.trees().is_empty() {
            return Err("no trees".into());
        }
        if let Ensemble::Boosted { base, rate, .. } = self
            && !(base.is_finite() && rate.is_finite())
        {
            return Err("a non-finite base or rate".into());
        }
        for (i, t) in self.trees().iter().enumerate() {
            t.check(n_features).map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(())
    }

    /// Converts a fitted smartcore gradient-boosting model.
    pub fn from_xgboost(model: &XGRegressor<f64, f64, Matrix, Vec<f64>>) -> Result<Self> {
        let v = serde_json::to_value(model).map_err(|e| {
            convert_err("(the whole model)", &format!("a serializable model ({e})"))
        })?;
        let params = &v["parameters"];
        let base = num(&params["base_score"], "parameters.base_score")?;
        let rate = num(&params["learning_rate"], "parameters.learning_rate")?;
        let trees = v["regressors"]
            .as_array()
            .ok_or_else(|| convert_err("regressors", "an array of trees"))?
            .iter()
            .map(|root| {
                let mut nodes = Vec::new();
                flatten_xgb(root, &mut nodes)?;
                Ok(Tree { nodes })
            })
            .collect::<Result<_>>()?;
        Ok(Ensemble::Boosted { base, rate, trees })
    }

    /// Converts a fitted smartcore random forest.
    pub fn from_forest(model: &RandomForestRegressor<f64, f64, Matrix, Vec<f64>>) -> Result<Self> {
        let v = serde_json::to_value(model).map_err(|e| {
            convert_err("(the whole model)", &format!("a serializable model ({e})"))
        })?;
        let trees = v["forest_regressor"]["trees"]
            .as_array()
            .ok_or_else(|| convert_err("forest_regressor.trees", "an array of trees"))?
            .iter()
            .map(|t| {
                let nodes = t["nodes"]
                    .as_array()
                    .ok_or_else(|| convert_err("trees.nodes", "an array of nodes"))?;
                let nodes = nodes
                    .iter()
                    .map(
                        |n| match (n["true_child"].as_u64(), n["false_child"].as_u64()) {
                            (Some(l), Some(r)) => Ok(Node(
                                index(&n["split_feature"], "nodes.split_feature")?,
                                num(&n["split_value"], "nodes.split_value")?,
                                l as u32,
                                r as u32,
                            )),
                            _ => Ok(Node(-1, num(&n["output"], "nodes.output")?, 0, 0)),
                        },
                    )
                    .collect::<Result<_>>()?;
                Ok(Tree { nodes })
            })
            .collect::<Result<_>>()?;
        Ok(Ensemble::Mean { trees })
    }
}

fn convert_err(field: &str, expected: &str) -> SurrogateError {
    SurrogateError::Convert {
        field: field.into(),
        expected: expected.into(),
    }
}

fn num(v: &Value, field: &str) -> Result<f64> {
    v.as_f64()
        .ok_or_else(|| convert_err(field, &format!("a number, got {v}")).into())
}

fn index(v: &Value, field: &str) -> Result<i32> {
    v.as_u64()
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| convert_err(field, &format!("a feature index, got {v}")).into())
}

/// Appends the XGBoost subtree at `v` in pre-order; returns its index.
fn flatten_xgb(v: &Value, nodes: &mut Vec<Node>) -> Result<u32> {
    let i = nodes.len();
    if v["left"].is_null() {
        nodes.push(Node(-1, num(&v["value"], "regressors.value")?, 0, 0));
        return Ok(i as u32);
    }
    nodes.push(Node(
        index(&v["split_feature_idx"], "regressors.split_feature_idx")?,
        num(&v["threshold"], "regressors.threshold")?,
        0,
        0,
    ));
    let l = flatten_xgb(&v["left"], nodes)?;
    let r = flatten_xgb(&v["right"], nodes)?;
    nodes[i].2 = l;
    nodes[i].3 = r;
    Ok(i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartcore::ensemble::random_forest_regressor::RandomForestRegressorParameters;
    use smartcore::xgboost::XGRegressorParameters;

    fn data() -> (Matrix, Vec<f64>, Vec<Vec<f64>>) {
        use rand::RngExt;
        let mut rng = crate::rng::seeded(1);
        let rows: Vec<Vec<f64>> = (0..60)
            .map(|_| (0..4).map(|_| rng.random_range(0..6) as f64).collect())
            .collect();
        let y = rows
            .iter()
            .map(|r| r[0] * r[1] - r[2] + rng.random::<f64>())
            .collect();
        let flat = rows.iter().flatten().copied().collect();
        (Matrix::new(60, 4, flat, false).unwrap(), y, rows)
    }

    #[test]
    fn conversions_predict_exactly_what_smartcore_does() {
        let (x, y, rows) = data();
        let xgb = XGRegressor::fit(
            &x,
            &y,
            XGRegressorParameters::default()
                .with_n_estimators(20)
                .with_max_depth(3),
        )
        .unwrap();
        let e = Ensemble::from_xgboost(&xgb).unwrap();
        e.check(4).unwrap();
        let want = xgb.predict(&x).unwrap();
        for (r, w) in rows.iter().zip(&want) {
            assert_eq!(e.predict(r).to_bits(), w.to_bits());
        }
        let rf = RandomForestRegressor::fit(
            &x,
            &y,
            RandomForestRegressorParameters::default().with_n_trees(15),
        )
        .unwrap();
        let e = Ensemble::from_forest(&rf).unwrap();
        e.check(4).unwrap();
        let want = rf.predict(&x).unwrap();
        for (r, w) in rows.iter().zip(&want) {
            assert_eq!(e.predict(r).to_bits(), w.to_bits());
        }
    }

    #[test]
    fn malformed_trees_are_caught() {
        let loop_tree = Ensemble::Mean {
            trees: vec![Tree {
                nodes: vec![Node(0, 1.0, 0, 1), Node(-1, 2.0, 0, 0)],
            }],
        };
        assert_eq!(
            loop_tree.check(4).unwrap_err(),
            "tree 0: node 0: children 0, 1 out of order"
        );
        let wide = Ensemble::Mean {
            trees: vec![Tree {
                nodes: vec![Node(7, 1.0, 1, 2), Node(-1, 2.0, 0, 0), Node(-1, 3.0, 0, 0)],
            }],
        };
        assert_eq!(
            wide.check(4).unwrap_err(),
            "tree 0: node 0: feature 7 out of 0..4"
        );
    }
}
