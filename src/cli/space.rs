//! `analognas space ...`

use analognas::error::{Error, Result};
use analognas::space::SearchSpace;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Space subcommands.
#[derive(Subcommand, Debug)]
pub enum SpaceCommand {
    /// Genes, ranges and number of architectures of a space.
    #[command(
        after_help = "Example:\n  analognas space info --space search_spaces/resnet_tinyml.toml"
    )]
    Info {
        /// Search-space file.
        #[arg(long, default_value = "search_spaces/resnet_tinyml.toml")]
        space: PathBuf,
    },
    /// Sample genomes, one JSON per line.
    #[command(
        after_help = "Example:\n  analognas space sample --space search_spaces/resnet_tinyml.toml -n 5 --seed 1 --lhs"
    )]
    Sample(SampleArgs),
}

/// Arguments of `space sample`.
#[derive(Args, Debug)]
pub struct SampleArgs {
    /// Search-space file.
    #[arg(long, default_value = "search_spaces/resnet_tinyml.toml")]
    pub space: PathBuf,
    /// Number of genomes.
    #[arg(short, long, default_value_t = 10)]
    pub n: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Latin-hypercube sampling instead of uniform.
    #[arg(long)]
    pub lhs: bool,
}

/// Runs a space subcommand.
pub fn run(cmd: SpaceCommand) -> Result<()> {
    match cmd {
        SpaceCommand::Info { space } => {
            let s = SearchSpace::load(analognas::files::shipped_path(&space))?;
            println!("space {} ({})", s.name, space.display());
            if !s.description.is_empty() {
                println!("  {}", s.description);
            }
            for (gene, values) in s.describe() {
                println!("  {gene:<22} {values}");
            }
            println!("  {:<22} {:.3e}", "architectures", s.size());
            Ok(())
        }
        SpaceCommand::Sample(a) => {
            SearchSpace::check_sample_count(a.n).map_err(|e| Error::input(format!("-n: {e}")))?;
            let s = SearchSpace::load(analognas::files::shipped_path(&a.space))?;
            let mut rng = analognas::rng::seeded(a.seed);
            let genomes = s
                .sample_many(a.n, a.lhs, &mut rng)
                .map_err(|e| Error::input(format!("-n: {e}")))?;
            for g in genomes {
                println!("{}", g.canonical_json());
            }
            Ok(())
        }
    }
}
