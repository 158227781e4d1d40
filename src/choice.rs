//! Named choices: the enums a user picks by name (task, reference network, algorithm,
//! optimiser, surrogate model, backend). The library knows their names; the CLI turns them into
//! flags without the library depending on an argument parser.

/// An enum with a fixed set of values, each with the name a user types.
pub trait Choice: Copy + PartialEq + Send + Sync + 'static {
    /// Every value, in the order shown to users.
    const ALL: &'static [Self];
    /// The name of this value.
    fn name(self) -> &'static str;

    /// The value named `s` (ASCII case-insensitive), or a one-line error listing the names.
    fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
                format!("expected one of {}, got \"{s}\"", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::AlgorithmKind;

    #[test]
    fn parse_by_name() {
        assert_eq!(AlgorithmKind::parse("NSGA2"), Ok(AlgorithmKind::Nsga2));
        assert_eq!(
            AlgorithmKind::parse("x").unwrap_err(),
            "expected one of nsga2, analognas, got \"x\""
        );
    }
}
